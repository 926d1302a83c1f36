import Agent
import AirlockCore
import AirlockTestSupport
import Foundation
import Model
import Sandbox
import Testing
import Trace

/// Runs that end honestly: cancelled while the model generates or a tool runs, stopped by the
/// wall budget in the middle of a request or a tool, a reply cut at the token limit, a model
/// repeating a call. Real pieces throughout: an HTTP model server on a unix socket, the shipped
/// tools and a sleeping one in the real sandbox, a real trace that is verified afterwards.
@Suite(
    "Honest run endings", .serialized,
    .enabled(
        if: SandboxProbe.current.allLayersAvailable, "this host lacks a confinement layer (see `airlock sandbox probe`)"
    ))
struct HonestRunTests {
    let fixture: AgentFixture

    init() throws {
        fixture = try AgentFixture()
    }

    func client(_ server: ChatTestServer) throws -> OpenAIChatClient {
        try OpenAIChatClient(endpoint: .unix(path: server.path, requestPath: "/v1/chat/completions"))
    }

    static func call(_ name: String, _ arguments: String, id: String? = nil) -> ChatResponse {
        ChatResponse(
            message: ChatMessage(
                role: .assistant, content: nil, toolCalls: [ModelToolCall(id: id, name: name, arguments: arguments)]),
            finishReason: "tool_calls")
    }

    static func answer(_ text: String, finishReason: String = "stop") -> ChatResponse {
        ChatResponse(message: ChatMessage(role: .assistant, content: text), finishReason: finishReason)
    }

    /// The payloads of the run's events of `type`.
    func payloads(_ runID: String, _ type: String) throws -> [JSONValue] {
        try fixture.trace(runID).events.filter { $0.0 == type }.map(\.1)
    }

    // MARK: - Cancellation

    @Test("cancelling the run while the model generates abandons the request and records the ending")
    func cancelledWhileGenerating() async throws {
        let server = try ChatTestServer(replies: [.completion(content: "too late", delaySeconds: 60)])
        defer { server.stop() }
        let cancellation = TaskCancellation()
        let loop = try fixture.loop(
            try AgentFixture.workflow("log-triage"), model: try client(server), cancellation: cancellation)
        let (store, key) = (fixture.store, fixture.key)
        let task = Task { try await loop.run(parameters: [:], store: store, key: key) }
        try await AgentFixture.waitUntil("the model server has the request") { server.requests.count == 1 }
        cancellation.request("stopped by the test")
        task.cancel()
        let outcome = try await task.value

        #expect(outcome.status == .cancelled)
        #expect(outcome.message == "the run was cancelled while the model was generating (step 1): stopped by the test")
        let (events, verification) = try fixture.trace(outcome.runID)
        #expect(verification.status == .intact, "\(verification.summary)")
        #expect(events.map(\.0) == ["run.started", "model.request", "error", "run.finished"])
        #expect(events[2].1["stage"] == "cancel")
        #expect(events[2].1["message"] == "stopped by the test")
        #expect(events.last?.1["status"] == "cancelled")
    }

    @Test("a task cancelled without a reason records the default one")
    func cancelledWithoutReason() async throws {
        let server = try ChatTestServer(replies: [.completion(content: "too late", delaySeconds: 60)])
        defer { server.stop() }
        let loop = try fixture.loop(try AgentFixture.workflow("log-triage"), model: try client(server))
        let (store, key) = (fixture.store, fixture.key)
        let task = Task { try await loop.run(parameters: [:], store: store, key: key) }
        try await AgentFixture.waitUntil("the model server has the request") { server.requests.count == 1 }
        task.cancel()
        let outcome = try await task.value
        #expect(outcome.status == .cancelled)
        #expect(outcome.message.hasSuffix(TaskCancellation.defaultReason))
    }

    @Test("cancelling the run while a tool runs kills the sandbox, and the execution stays on record")
    func cancelledWhileToolRuns() async throws {
        let workflow = try fixture.slowToolWorkflow()
        let marker = try #require(fixture.context.workspace).appendingPathComponent("started")
        try? FileManager.default.removeItem(at: marker)
        let model = ScriptedModel(responses: [Self.call("slow.sleep", "{}"), Self.answer("never asked")])
        let cancellation = TaskCancellation()
        let loop = try fixture.loop(workflow, model: model, cancellation: cancellation)
        let (store, key) = (fixture.store, fixture.key)
        let task = Task { try await loop.run(parameters: [:], store: store, key: key) }
        try await AgentFixture.waitUntil("the tool has started") { FileManager.default.fileExists(atPath: marker.path) }
        cancellation.request("stopped by the test")
        task.cancel()
        let outcome = try await task.value

        #expect(outcome.status == .cancelled)
        #expect(outcome.message.contains("while call-1-1 (slow.sleep) ran in the sandbox"), "\(outcome.message)")
        #expect(outcome.executed == 1)
        let (events, verification) = try fixture.trace(outcome.runID)
        #expect(verification.status == .intact, "\(verification.summary)")
        let executed = try #require(events.first { $0.0 == "tool.executed" }?.1)
        // Killed through the sandbox's own path (its pidfd), long before its 30 s sleep ended.
        #expect(executed["record"]?["cancelled"] == true)
        #expect(executed["record"]?["termination"]?["signal"] == 9)
        #expect((executed["record"]?["wallSeconds"]?.doubleValue ?? 99) < 30)
        // The model is not told about a call the run's end cut short.
        #expect(!events.contains { $0.0 == "tool.result" })
        #expect(Array(events.map(\.0).suffix(3)) == ["tool.executed", "error", "run.finished"])
    }

    // MARK: - The wall budget

    @Test("the wall budget bounds a model request: a slow reply ends the run as budget_exhausted")
    func wallBudgetMidRequest() async throws {
        let server = try ChatTestServer(replies: [.completion(content: "too late", delaySeconds: 60)])
        defer { server.stop() }
        var budgets = Workflow.Budgets()
        budgets.wallSeconds = 1
        let loop = try fixture.loop(
            try AgentFixture.workflow("log-triage", budgets: budgets), model: try client(server))
        let outcome = try await loop.run(parameters: [:], store: fixture.store, key: fixture.key)

        #expect(outcome.status == .budgetExhausted)
        #expect(
            outcome.message == "the wall-time budget (1.0 s) ran out while the model was generating (step 1)",
            "\(outcome.message)")
        let (events, verification) = try fixture.trace(outcome.runID)
        #expect(verification.status == .intact)
        let errors = events.filter { $0.0 == "error" }.map(\.1)
        #expect(errors.map { $0["stage"] } == ["model", "budget"])
        #expect(errors.first?["code"] == "timeout")
        // Bounded by the budget, not by the model's 60 s (a generous factor: no timing claim).
        let times = try fixture.store.events(runID: outcome.runID).map(\.time)
        let elapsed = Double((times.last ?? 0) - (times.first ?? 0)) / 1e9
        #expect(elapsed >= 1 && elapsed < 20, "recorded \(elapsed) s")
    }

    @Test("the wall budget bounds a tool: it gets what is left, and running out ends the run")
    func wallBudgetMidTool() async throws {
        let workflow = try fixture.slowToolWorkflow(budgets: "{wall_seconds: 1}")
        let model = ScriptedModel(responses: [Self.call("slow.sleep", "{}"), Self.answer("never asked")])
        let outcome = try await fixture.loop(workflow, model: model).run(
            parameters: [:], store: fixture.store, key: fixture.key)

        #expect(outcome.status == .budgetExhausted)
        #expect(outcome.message == "the wall-time budget (1.0 s) ran out while call-1-1 (slow.sleep) ran")
        let (events, verification) = try fixture.trace(outcome.runID)
        #expect(verification.status == .intact)
        let record = try #require(events.first { $0.0 == "tool.executed" }?.1["record"])
        #expect(record["timedOut"] == true)
        // The manifest allows 60 s; the call was given what was left of the run's 1 s.
        let limit = try #require(record["confinement"]?["limits"]?["wallTimeSeconds"]?.doubleValue)
        #expect(limit > 0 && limit <= 1, "\(limit)")
        #expect(!events.contains { $0.0 == "tool.result" })
    }

    // MARK: - Truncation

    @Test("a reply cut at the token limit ends the run as model_error (truncated) unless the workflow accepts it")
    func truncation() async throws {
        let cut = { ScriptedModel(responses: [Self.answer("The errors are mostly in pay", finishReason: "length")]) }
        var workflow = try AgentFixture.workflow("log-triage")
        let refused = try await fixture.loop(workflow, model: cut()).run(
            parameters: [:], store: fixture.store, key: fixture.key)
        #expect(refused.status == .modelError)
        #expect(refused.answer == nil)
        #expect(refused.message.contains("cut at the token limit (model.max_tokens: 1024)"))
        let errors = try payloads(refused.runID, "error")
        #expect(errors.count == 1)
        #expect(errors.first?["code"] == "truncated")
        #expect(errors.first?["stage"] == "model")
        // The cut reply itself is on record.
        #expect(try payloads(refused.runID, "model.response").first?["finish_reason"] == "length")
        #expect(try fixture.trace(refused.runID).verification.status == .intact)
        #expect(try payloads(refused.runID, "run.started").first?["model"]?["on_truncation"] == "error")

        workflow.model.onTruncation = .accept
        let accepted = try await fixture.loop(workflow, model: cut()).run(
            parameters: [:], store: fixture.store, key: fixture.key)
        #expect(accepted.status == .succeeded)
        #expect(accepted.answer == "The errors are mostly in pay")
        #expect(try payloads(accepted.runID, "run.started").first?["model"]?["on_truncation"] == "accept")
    }

    // MARK: - Repeats

    @Test("a repeated identical call is answered from the record; one repeat too many ends the run")
    func repeats() async throws {
        let search = #"{"pattern": "ERROR", "max_matches": 5}"#
        // The same arguments in another key order are the same call (the argument digest).
        let reordered = #"{"max_matches": 5, "pattern": "ERROR"}"#
        let model = ScriptedModel(responses: [
            Self.call("logs.search", search), Self.call("logs.search", reordered), Self.call("logs.search", search),
            Self.call("logs.search", search), Self.answer("never asked"),
        ])
        let outcome = try await fixture.loop(try AgentFixture.workflow("log-triage"), model: model).run(
            parameters: [:], store: fixture.store, key: fixture.key)

        #expect(outcome.status == .repeating)
        #expect(outcome.executed == 1)
        #expect(outcome.toolCalls == 4)
        #expect(outcome.message.contains("call-4-1 repeats call-1-1 (logs.search, the same arguments)"))
        #expect(outcome.message.contains("budgets.max_repeats (2)"))
        let (events, verification) = try fixture.trace(outcome.runID)
        #expect(verification.status == .intact)
        #expect(events.filter { $0.0 == "tool.executed" }.count == 1)
        let results = events.filter { $0.0 == "tool.result" }.map(\.1)
        #expect(results.count == 3)
        #expect(results[0]["repeat_of"] == nil)
        #expect(results.dropFirst().map { $0["repeat_of"] } == ["call-1-1", "call-1-1"])
        // The repeat carries the first call's result and a note, and no policy was asked for it.
        let first = try #require(results[0]["content"]?.stringValue)
        let repeated = try JSONParser().parse(try #require(results[1]["content"]?.stringValue))
        #expect(repeated["result"]?.stringValue == first)
        #expect(repeated["note"]?.stringValue?.contains("did not run again") == true)
        #expect(events.filter { $0.0 == "policy.decision" }.count == 1)
        #expect(events.contains { $0.0 == "error" && $0.1["stage"] == "repeat" && $0.1["code"] == "repeating" })
        #expect(events.last?.1["status"] == "repeating")
        #expect(events.first?.1["budgets"]?["max_repeats"] == 2)
    }

    @Test("with max_repeats 0 the first repeat ends the run; other arguments are another call")
    func noRepeatsAllowed() async throws {
        var budgets = Workflow.Budgets()
        budgets.maxRepeats = 0
        let model = ScriptedModel(responses: [
            Self.call("logs.search", #"{"pattern": "ERROR"}"#), Self.call("logs.search", #"{"pattern": "WARN"}"#),
            Self.call("logs.search", #"{"pattern": "ERROR"}"#), Self.answer("never asked"),
        ])
        let outcome = try await fixture.loop(
            try AgentFixture.workflow("log-triage", budgets: budgets), model: model
        ).run(parameters: [:], store: fixture.store, key: fixture.key)
        #expect(outcome.status == .repeating)
        #expect(outcome.executed == 2)
        #expect(outcome.message.contains("call-3-1 repeats call-1-1"))
    }

    // MARK: - The workflow fields

    @Test("on_truncation and max_repeats are read and checked like every workflow field")
    func workflowFields() throws {
        func load(_ extra: String) throws(AgentError) -> Workflow {
            let text = """
                airlock_workflow: 1
                name: w
                description: d
                system_prompt: s
                task: t
                tools: [logs.search]
                policy: p.yaml
                \(extra)
                """
            return try Workflow(yaml: text, label: "w.yaml", base: URL(fileURLWithPath: "/"), sha256: "x")
        }
        let defaults = try load("")
        #expect(defaults.model.onTruncation == .error)
        #expect(defaults.budgets.maxRepeats == Workflow.Budgets.defaultMaxRepeats)
        let set = try load("model: {on_truncation: accept}\nbudgets: {max_repeats: 5}")
        #expect(set.model.onTruncation == .accept)
        #expect(set.budgets.maxRepeats == 5)
        let error = #expect(throws: AgentError.self) {
            try load("model:\n  on_truncation: sometimes\nbudgets:\n  max_repeats: -1")
        }
        #expect(error?.code == .invalidWorkflow)
        #expect(error?.message.contains("/model/on_truncation (line 9): must be one of error, accept") == true)
        #expect(error?.message.contains("/budgets/max_repeats (line 11): must be an integer from 0 to 1000") == true)
    }
}

/// The model client's bounds that a run relies on: cancellation and the request's own timeout.
@Suite("Model client: cancellation and per-request timeout")
struct ModelClientBoundsTests {
    let request = ChatRequest(messages: [ChatMessage(role: .user, content: "hi")])

    func client(_ server: ChatTestServer) throws -> OpenAIChatClient {
        try OpenAIChatClient(endpoint: .unix(path: server.path, requestPath: "/v1/chat/completions"))
    }

    @Test func cancellingTheTaskAbandonsTheRequest() async throws {
        let server = try ChatTestServer(replies: [.completion(content: "too late", delaySeconds: 60)])
        defer { server.stop() }
        let client = try client(server)
        let request = request
        let task = Task { () async throws -> ChatResponse in try await client.complete(request) }
        try await AgentFixture.waitUntil("the server has the request") { server.requests.count == 1 }
        task.cancel()
        let result = await task.result
        guard case .failure(let error) = result else {
            Issue.record("the request was not abandoned: \(result)")
            return
        }
        #expect((error as? ModelError)?.code == .cancelled, "\(error)")
    }

    @Test func aCancelledTaskDoesNotConnect() async throws {
        let server = try ChatTestServer(replies: [.completion(content: "never")])
        defer { server.stop() }
        let client = try client(server)
        let request = request
        let task = Task { () async throws -> ChatResponse in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.complete(request)
        }
        let result = await task.result
        guard case .failure(let error) = result else {
            Issue.record("a cancelled task's request went out: \(result)")
            return
        }
        #expect((error as? ModelError)?.code == .cancelled, "\(error)")
        #expect(server.requests.isEmpty)
    }

    @Test func theRequestsOwnTimeoutBoundsIt() async throws {
        let server = try ChatTestServer(replies: [.completion(content: "too late", delaySeconds: 60)])
        defer { server.stop() }
        var request = request
        request.timeoutSeconds = 0.5
        let error = await #expect(throws: ModelError.self) { try await client(server).complete(request) }
        #expect(error?.code == .timeout)
        #expect(error?.message.contains("within 0.5 s") == true, "\(error?.message ?? "")")
    }

    @Test func aCutReplyKeepsItsFinishReason() async throws {
        let server = try ChatTestServer(replies: [.completion(content: "cut", finishReason: "length")])
        defer { server.stop() }
        let response = try await client(server).complete(request)
        #expect(response.finishReason == "length")
    }
}
