import Agent
import AirlockCore
import Approvals
import Foundation
import RunEvents
import Synchronization
import Testing

@testable import Runs

/// The home's approval store and the approver that races it against a prompt, on a real SQLite
/// file; the prompt is a fake at its protocol boundary (the CLI tests drive the real terminal).
@Suite("Approval store and StoreApprover")
struct StoreApproverTests {
    let directory: URL
    let store: ApprovalStore

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-approvals-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = ApprovalStore(databaseURL: directory.appendingPathComponent("approvals.sqlite"))
    }

    /// A request; its default timeout is generous because the whole suite on 2 cores has held
    /// the cooperative pool for over a minute (the test is of who answers, not of how fast).
    func request(_ id: String = "a1b2c3d4e5f6", timeout: Double = 900, separate: Bool = false) -> ApprovalRequest {
        ApprovalRequest(
            id: id, runID: "run-1", workflow: "w", principal: "ana", callID: "call-1", tool: "sql.select",
            arguments: ["max_rows": 200], argumentsText: #"{"max_rows":200}"#, argumentsDigest: "d1", rules: ["r"],
            reasons: ["why"], tags: ["maestro:L6"], separateFromPrincipal: separate, timeoutSeconds: timeout)
    }

    /// A prompt that answers `answer` after `delay` (or never), and notes how it was closed.
    final class FakePrompt: ApprovalPrompt {
        let answer: ApprovalAnswer?
        let delay: Duration
        let closedWith = Mutex<ApprovalAnswer?>(nil)
        let cancelled = Mutex(false)

        init(answer: ApprovalAnswer?, delay: Duration = .zero) {
            self.answer = answer
            self.delay = delay
        }

        func ask(_ request: ApprovalRequest) async -> ApprovalAnswer? {
            do {
                try await Task.sleep(for: answer == nil ? .seconds(3600) : delay)
            } catch {
                cancelled.withLock { $0 = true }
                return nil
            }
            return answer
        }

        func closed(_ request: ApprovalRequest, by answer: ApprovalAnswer) {
            closedWith.withLock { $0 = answer }
        }
    }

    /// Answers the request through the store as `user` once it is there.
    func answerLater(_ id: String, granted: Bool, as user: String) -> Task<Void, Never> {
        let store = store
        return Task {
            let deadline = Date().addingTimeInterval(900)
            while Date() < deadline {
                if (try? store.request(id))?.state == .pending {
                    _ = try? store.answer(
                        id, state: granted ? .granted : .denied,
                        .init(approver: user, reason: "from the store", scope: .run, source: .store, at: 1))
                    return
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @Test("an answer through the store wins; the prompt is cancelled and told")
    func theStoreWins() async throws {
        let prompt = FakePrompt(answer: nil)
        let approver = StoreApprover(store: store, prompt: prompt, pollInterval: .milliseconds(20))
        let other = answerLater("a1b2c3d4e5f6", granted: true, as: "bob")
        let answer = await approver.decide(request())
        await other.value
        #expect(answer.granted)
        #expect(answer.approver == "bob" && answer.identity == "bob")
        #expect(answer.scope == .run)
        #expect(answer.source == .store)
        #expect(prompt.cancelled.withLock { $0 })
        #expect(prompt.closedWith.withLock { $0 } == answer)
    }

    @Test("the prompt's answer closes the store request; a later answer there changes nothing")
    func thePromptWins() async throws {
        let typed = ApprovalAnswer(
            granted: false, approver: "ana@tty", reason: "no", identity: "ana", source: .terminal)
        let approver = StoreApprover(store: store, prompt: FakePrompt(answer: typed), pollInterval: .milliseconds(20))
        let answer = await approver.decide(request())
        #expect(answer == typed)
        let record = try store.request("a1b2c3d4e5f6")
        #expect(record.state == .denied)
        #expect(record.answer?.approver == "ana")
        #expect(record.answer?.source == .terminal)
        let late = try store.answer(
            "a1b2c3d4e5f6", state: .granted, .init(approver: "bob", reason: "late", scope: .once, source: .store, at: 2)
        )
        guard case .closed(let closed) = late else {
            Issue.record("a second answer landed: \(late)")
            return
        }
        #expect(closed.state == .denied)
    }

    @Test("no answer in time: denied as timed out, the request expired")
    func aTimeout() async throws {
        let approver = StoreApprover(store: store, pollInterval: .milliseconds(20))
        let answer = await approver.decide(request(timeout: 0.2))
        #expect(!answer.granted)
        #expect(answer.source == .timeout)
        #expect(answer.reason == "timed out after 0.2 s")
        #expect(try store.request("a1b2c3d4e5f6").state == .expired)
    }

    @Test("self-approval is refused where the policy separates duties, and the request stays pending")
    func selfApproval() throws {
        try store.insert(
            ApprovalRecord(
                id: "a1", runID: "r", callID: "c", workflow: "w", principal: "ana", tool: "t", arguments: "{}",
                argumentsSHA256: "d", rules: [], reasons: [], tags: [], separateFromPrincipal: true, createdAt: 0,
                deadline: Date().timeIntervalSince1970 + 60, waiter: .current))
        let error = #expect(throws: ApprovalsError.self) {
            try store.answer(
                "a1", state: .granted, .init(approver: "ana", reason: "", scope: .once, source: .store, at: 1))
        }
        #expect(error?.code == .selfApproval)
        #expect(try store.request("a1").state == .pending)
        // Refusing one's own call is allowed.
        let denied = try store.answer(
            "a1", state: .denied, .init(approver: "ana", reason: "no", scope: nil, source: .store, at: 1))
        guard case .answered(let record) = denied else {
            Issue.record("\(denied)")
            return
        }
        #expect(record.state == .denied)
    }

    @Test("a request whose waiting process is gone expires when seen")
    func anOrphanExpires() throws {
        var gone = ApprovalWaiter.current
        gone.startTicks = "0"  // no running process started at boot tick 0 under this pid
        try store.insert(
            ApprovalRecord(
                id: "b2", runID: "r", callID: "c", workflow: "w", principal: "ana", tool: "t", arguments: "{}",
                argumentsSHA256: "d", rules: [], reasons: [], tags: [], separateFromPrincipal: false, createdAt: 0,
                deadline: Date().timeIntervalSince1970 + 60, waiter: gone))
        #expect(try store.requests(includeClosed: false).isEmpty)
        let record = try store.request("b2")
        #expect(record.state == .expired)
        #expect(record.answer?.reason.contains("ended before anyone answered") == true)
        #expect(throws: ApprovalsError.self) { try store.request("no-such-id") }
    }

    @Test("a store that cannot be used denies the call")
    func anUnusableStoreDenies() async {
        let broken = ApprovalStore(databaseURL: URL(fileURLWithPath: "/nonexistent-dir/approvals.sqlite"))
        let answer = await StoreApprover(store: broken).decide(request())
        #expect(!answer.granted)
        #expect(answer.reason.contains("the approval store cannot be used"))
    }
}
