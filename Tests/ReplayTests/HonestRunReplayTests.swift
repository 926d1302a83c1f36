import Agent
import AirlockCore
import AirlockTestSupport
import Foundation
import Model
import Replay
import Sandbox
import Synchronization
import Testing
import Trace

/// Every new kind of ending replays identically from its record alone: a cancellation at the
/// point it happened (the model generating, a tool running, a person being asked), the wall
/// budget running out in a request or a tool, a cut reply, a repeated call.
@Suite(
    "Replay of cancelled, cut-off and repeating runs", .serialized,
    .enabled(
        if: SandboxProbe.current.allLayersAvailable, "this host lacks a confinement layer (see `airlock sandbox probe`)"
    ))
struct HonestRunReplayTests {
    let fixture: AgentFixture

    init() throws {
        fixture = try AgentFixture()
    }

    static func call(_ name: String, _ arguments: String) -> ChatResponse {
        ChatResponse(
            message: ChatMessage(
                role: .assistant, content: nil, toolCalls: [ModelToolCall(id: nil, name: name, arguments: arguments)]),
            finishReason: "tool_calls")
    }

    static func answer(_ text: String, finishReason: String = "stop") -> ChatResponse {
        ChatResponse(message: ChatMessage(role: .assistant, content: text), finishReason: finishReason)
    }

    func client(_ server: ChatTestServer) throws -> OpenAIChatClient {
        try OpenAIChatClient(endpoint: .unix(path: server.path, requestPath: "/v1/chat/completions"))
    }

    /// Replays `runID` and expects it identical; returns the recorded status.
    @discardableResult
    func expectIdenticalReplay(_ runID: String, sourceLocation: SourceLocation = #_sourceLocation) async throws
        -> String?
    {
        let run = try RecordedRun(runID: runID, store: fixture.store, trustedKeys: [fixture.key.publicKey])
        let report = try await Replayer().replay(run)
        #expect(report.identical, "\(report.lines)", sourceLocation: sourceLocation)
        #expect(report.recordedEvents == report.replayedEvents, sourceLocation: sourceLocation)
        return run.events.last?.payload["status"]?.stringValue
    }

    /// Runs `loop` in a task, waits until `started` holds, cancels it with a reason.
    func cancel(
        _ loop: AgentLoop, _ cancellation: TaskCancellation, parameters: [String: String] = [:], when what: String,
        _ started: () throws -> Bool
    ) async throws -> AgentRunOutcome {
        let (store, key) = (fixture.store, fixture.key)
        let task = Task { try await loop.run(parameters: parameters, store: store, key: key) }
        try await AgentFixture.waitUntil(what, started)
        cancellation.request("interrupted by the test")
        task.cancel()
        return try await task.value
    }

    @Test("a run cancelled while the model generated")
    func cancelledWhileGenerating() async throws {
        let server = try ChatTestServer(replies: [
            .completion(calls: [(nil, "logs.search", #"{"pattern": "ERROR"}"#)]),
            .completion(content: "too late", delaySeconds: 60),
        ])
        defer { server.stop() }
        let cancellation = TaskCancellation()
        let loop = try fixture.loop(
            try AgentFixture.workflow("log-triage"), model: try client(server), cancellation: cancellation)
        let outcome = try await cancel(loop, cancellation, when: "the second request arrived") {
            server.requests.count == 2
        }
        #expect(outcome.status == .cancelled)
        #expect(outcome.message.contains("while the model was generating (step 2)"))
        #expect(try await expectIdenticalReplay(outcome.runID) == "cancelled")
    }

    @Test("a run cancelled while a tool ran")
    func cancelledWhileToolRan() async throws {
        let workflow = try fixture.slowToolWorkflow()
        let marker = try #require(fixture.context.workspace).appendingPathComponent("started")
        try? FileManager.default.removeItem(at: marker)
        let cancellation = TaskCancellation()
        let loop = try fixture.loop(
            workflow, model: ScriptedModel(responses: [Self.call("slow.sleep", "{}"), Self.answer("never")]),
            cancellation: cancellation)
        let outcome = try await cancel(loop, cancellation, when: "the tool started") {
            FileManager.default.fileExists(atPath: marker.path)
        }
        #expect(outcome.status == .cancelled)
        #expect(try await expectIdenticalReplay(outcome.runID) == "cancelled")
    }

    /// Asks nobody: waits until the run is cancelled, then approves (too late to count).
    final class UnansweredApprover: Approver {
        let asked = Mutex(false)

        func decide(_ request: ApprovalRequest) async -> ApprovalAnswer {
            asked.withLock { $0 = true }
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
            return ApprovalAnswer(granted: true, approver: "ana@test", reason: "answered after the cancellation")
        }
    }

    @Test("a run cancelled while a person was asked to approve a call: the late answer is not recorded")
    func cancelledWhileAsking() async throws {
        let approver = UnansweredApprover()
        let cancellation = TaskCancellation()
        let model = ScriptedModel(responses: [
            Self.call("sql.select", #"{"query": "SELECT * FROM items", "max_rows": 300}"#), Self.answer("never"),
        ])
        let loop = try fixture.loop(
            try AgentFixture.workflow("dataset-report"), model: model, cancellation: cancellation, approver: approver)
        let outcome = try await cancel(
            loop, cancellation, parameters: ["question": "q"], when: "the approver was asked"
        ) {
            approver.asked.withLock { $0 }
        }
        #expect(outcome.status == .cancelled)
        #expect(outcome.message.contains("while call-1-1 (sql.select) waited for an approval"))
        let (events, _) = try fixture.trace(outcome.runID)
        #expect(events.contains { $0.0 == "approval.requested" })
        #expect(!events.contains { $0.0 == "approval.granted" || $0.0 == "approval.denied" })
        #expect(try await expectIdenticalReplay(outcome.runID) == "cancelled")
    }

    @Test("a run whose wall budget ran out in a model request, and one in a tool")
    func wallBudget() async throws {
        let server = try ChatTestServer(replies: [.completion(content: "too late", delaySeconds: 60)])
        defer { server.stop() }
        let workflow = try AgentFixture.workflow("log-triage") {
            $0.replacingOccurrences(of: "wall_seconds: 300", with: "wall_seconds: 1")
        }
        let request = try await fixture.loop(workflow, model: try client(server)).run(
            parameters: [:], store: fixture.store, key: fixture.key)
        #expect(request.status == .budgetExhausted)
        #expect(try await expectIdenticalReplay(request.runID) == "budget_exhausted")

        let tool = try await fixture.loop(
            try fixture.slowToolWorkflow(budgets: "{wall_seconds: 1}"),
            model: ScriptedModel(responses: [Self.call("slow.sleep", "{}"), Self.answer("never")])
        ).run(parameters: [:], store: fixture.store, key: fixture.key)
        #expect(tool.status == .budgetExhausted)
        #expect(try await expectIdenticalReplay(tool.runID) == "budget_exhausted")
    }

    @Test("a cut reply refused, and one accepted")
    func truncation() async throws {
        let model = { ScriptedModel(responses: [Self.answer("cut sho", finishReason: "length")]) }
        let refused = try await fixture.loop(try AgentFixture.workflow("log-triage"), model: model()).run(
            parameters: [:], store: fixture.store, key: fixture.key)
        #expect(try await expectIdenticalReplay(refused.runID) == "model_error")
        let workflow = try AgentFixture.workflow("log-triage") {
            $0.replacingOccurrences(of: "max_tokens: 1024", with: "max_tokens: 1024\n  on_truncation: accept")
        }
        #expect(workflow.model.onTruncation == .accept)
        let accepted = try await fixture.loop(workflow, model: model()).run(
            parameters: [:], store: fixture.store, key: fixture.key)
        #expect(try await expectIdenticalReplay(accepted.runID) == "succeeded")
    }

    @Test("a run that repeated a call until the breaker tripped")
    func repeating() async throws {
        let search = #"{"pattern": "WARN"}"#
        let model = ScriptedModel(responses: Array(repeating: Self.call("logs.search", search), count: 4))
        let outcome = try await fixture.loop(try AgentFixture.workflow("log-triage"), model: model).run(
            parameters: [:], store: fixture.store, key: fixture.key)
        #expect(outcome.status == .repeating)
        #expect(try await expectIdenticalReplay(outcome.runID) == "repeating")
    }
}
