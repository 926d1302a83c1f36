import Agent
import Approvals
import Foundation
import RunEvents

/// Asks through the home's approval store: writes the request (`AIRLOCK_HOME/approvals.sqlite`),
/// then waits for whichever answers first, up to the request's timeout:
///
/// - someone answering through the store (`airlock approvals approve|deny ID`), from any process
///   and as any local account, polled every ``pollInterval``;
/// - the ``prompt`` (the run's terminal), when there is one;
/// - the timeout: the call is denied, `timed out after N s`.
///
/// The winner's answer is written to the store in the same transaction that checks the request is
/// still pending, so two answers never both count; the loser is withdrawn (the prompt is
/// cancelled and told, or a late answer from the prompt gives way to the one already stored).
/// Security defaults closed: a store that cannot be written or read denies the call.
public struct StoreApprover: Approver {
    /// The home's store.
    public let store: ApprovalStore
    /// The prompt raced against the store, or `nil`.
    public let prompt: (any ApprovalPrompt)?
    /// How often the store is read while the run waits (default ``defaultPollInterval``).
    public var pollInterval: Duration

    /// How often a waiting run reads the store by default: a quarter of a second, so that an
    /// answer from another process is taken up at once without keeping SQLite busy.
    public static let defaultPollInterval: Duration = .milliseconds(250)

    /// Creates an approver over `store`.
    /// - Parameters:
    ///   - store: the home's approval store.
    ///   - prompt: the terminal prompt or notice (default none).
    ///   - pollInterval: how often the store is read (default ``defaultPollInterval``).
    public init(store: ApprovalStore, prompt: (any ApprovalPrompt)? = nil, pollInterval: Duration = defaultPollInterval)
    {
        self.store = store
        self.prompt = prompt
        self.pollInterval = pollInterval
    }

    /// What ended the wait.
    enum Ending: Sendable {
        /// The prompt answered.
        case prompt(ApprovalAnswer)
        /// The store holds an answer (or Airlock closed the request).
        case store(ApprovalRecord)
        /// The timeout passed.
        case timeout
        /// The store could not be read.
        case failed(ApprovalsError)
    }

    public func decide(_ request: ApprovalRequest) async -> ApprovalAnswer {
        let created = Date().timeIntervalSince1970
        let record = ApprovalRecord(
            id: request.id, runID: request.runID, callID: request.callID, workflow: request.workflow,
            principal: request.principal, tool: request.tool, arguments: request.argumentsText,
            argumentsSHA256: request.argumentsDigest, rules: request.rules, reasons: request.reasons,
            tags: request.tags, separateFromPrincipal: request.separateFromPrincipal, createdAt: created,
            deadline: created + request.timeoutSeconds, waiter: .current)
        do {
            try store.insert(record)
        } catch {
            return Self.storeFailure(error)
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64((request.timeoutSeconds * 1000).rounded()))
        let ending = await withTaskGroup(of: Ending?.self) { group -> Ending in
            if let prompt { group.addTask { await prompt.ask(request).map(Ending.prompt) } }
            group.addTask { await waitForStore(request.id, until: deadline) }
            var first: Ending = .timeout
            for await result in group {
                guard let result else { continue }
                first = result
                group.cancelAll()
                break
            }
            return first
        }
        switch ending {
        case .prompt(let answer):
            return settle(request, answer: answer, state: answer.granted ? .granted : .denied, fromPrompt: true)
        case .store(let record):
            let answer = Self.answer(of: record)
            prompt?.closed(request, by: answer)
            return answer
        case .timeout where Task.isCancelled:
            // The run was cancelled while it waited: the request is closed as such (the loop
            // records the cancellation, not this answer).
            let answer = ApprovalAnswer(
                granted: false, approver: "cancelled", reason: "the run was cancelled while it waited",
                source: .timeout)
            let settled = settle(request, answer: answer, state: .expired, fromPrompt: false)
            prompt?.closed(request, by: settled)
            return settled
        case .timeout:
            let answer = ApprovalAnswer(
                granted: false, approver: "timeout", reason: ApprovalStore.timeoutReason(request.timeoutSeconds),
                source: .timeout)
            let settled = settle(request, answer: answer, state: .expired, fromPrompt: false)
            prompt?.closed(request, by: settled)
            return settled
        case .failed(let error):
            let answer = Self.storeFailure(error)
            prompt?.closed(request, by: answer)
            return answer
        }
    }

    /// Polls the request until it is closed, the deadline passes, or the task is cancelled (`nil`).
    private func waitForStore(_ id: String, until deadline: ContinuousClock.Instant) async -> Ending? {
        while !Task.isCancelled {
            do {
                let record = try store.request(id)
                if record.state != .pending { return .store(record) }
            } catch {
                return .failed(error)
            }
            let now = ContinuousClock.now
            if now >= deadline { return .timeout }
            do {
                try await Task.sleep(for: min(pollInterval, deadline - now))
            } catch {
                return nil
            }
        }
        return nil
    }

    /// Writes `answer` to the store if the request is still pending; if another answer got there
    /// first (or the request expired), that one stands, and a prompt that answered is told.
    private func settle(
        _ request: ApprovalRequest, answer: ApprovalAnswer, state: ApprovalRecord.State, fromPrompt: Bool
    ) -> ApprovalAnswer {
        let stored = ApprovalRecord.Answer(
            approver: answer.identity ?? answer.approver, reason: answer.reason,
            scope: answer.granted ? answer.scope : nil, source: answer.source, at: Date().timeIntervalSince1970)
        do {
            switch try store.answer(request.id, state: state, stored) {
            case .answered: return answer
            case .closed(let record):
                let earlier = Self.answer(of: record)
                if fromPrompt { prompt?.closed(request, by: earlier) }
                return earlier
            }
        } catch {
            // The store refused the answer (a self-approval) or could not be written: the call is
            // denied, never run on an answer the store does not hold.
            guard answer.granted else { return answer }
            return ApprovalAnswer(
                granted: false, approver: answer.approver, reason: "the approval could not be stored: \(error.message)",
                identity: answer.identity, source: answer.source)
        }
    }

    /// The answer a closed record holds, as the loop records it.
    static func answer(of record: ApprovalRecord) -> ApprovalAnswer {
        let stored = record.answer
        switch record.state {
        case .granted, .denied:
            return ApprovalAnswer(
                granted: record.state == .granted, approver: stored?.approver ?? "?", reason: stored?.reason ?? "",
                identity: stored?.approver, scope: stored?.scope ?? .once, source: stored?.source ?? .store)
        case .expired, .pending:
            return ApprovalAnswer(
                granted: false, approver: stored?.approver ?? "timeout",
                reason: stored?.reason ?? ApprovalStore.timeoutReason(record.timeoutSeconds), source: .timeout)
        }
    }

    /// The denial when the store cannot be used.
    static func storeFailure(_ error: ApprovalsError) -> ApprovalAnswer {
        ApprovalAnswer(
            granted: false, approver: "airlock", reason: "the approval store cannot be used: \(error.message)",
            source: .store)
    }
}
