import Agent
import AirlockCore
import AirlockTestSupport
import Foundation
import Model
import Sandbox
import Testing
import Trace

/// Whole runs: an OpenAI-compatible server on a unix socket plays the model; the shipped tools
/// run in the real sandbox under the shipped workflows policy; the trace is verified afterwards.
@Suite(
    "Agent runs end to end", .serialized,
    .enabled(
        if: SandboxProbe.current.allLayersAvailable, "this host lacks a confinement layer (see `airlock sandbox probe`)"
    ))
struct AgentEndToEndTests {
    let fixture: AgentFixture

    init() throws {
        fixture = try AgentFixture()
    }

    func client(_ server: ChatTestServer) throws -> OpenAIChatClient {
        try OpenAIChatClient(endpoint: .unix(path: server.path, requestPath: "/v1/chat/completions"))
    }

    @Test("allowed, pre-approved, malformed and denied calls, then an answer; the trace holds every step")
    func datasetReport() async throws {
        let server = try ChatTestServer(replies: [
            .completion(calls: [
                ("q1", "sql.select", #"{"query": "SELECT name, region FROM sites ORDER BY id", "max_rows": 10}"#),
                (nil, "sql.select", #"{"query": "SELECT sku, quantity FROM items", "max_rows": 200}"#),
            ]),
            .completion(calls: [
                ("bad", "csv.summarize", #"{"file": "incidents.csv", "file": "other.csv"}"#),
                ("out", "logs.search", #"{"pattern": "ERROR"}"#),
                ("csv", "csv.summarize", #"{"file": "incidents.csv"}"#),
            ]),
            .completion(content: "3 sites; 8 incidents."),
        ])
        defer { server.stop() }
        let workflow = try AgentFixture.workflow("dataset-report")
        let loop = try fixture.loop(workflow, model: try client(server), preApproved: ["sql.select"])
        let outcome = try await loop.run(
            parameters: ["question": "How many sites and incidents?"], store: fixture.store, key: fixture.key)

        #expect(outcome.status == .succeeded)
        #expect(outcome.answer == "3 sites; 8 incidents.")
        #expect(outcome.steps == 3)
        #expect(outcome.toolCalls == 5)
        #expect(outcome.executed == 3)
        #expect(outcome.denied == 2)

        // What the model was sent: the tools (names mapped for the wire), the task, and every
        // result tied to its call id.
        let requests = server.requests
        #expect(requests.count == 3)
        let offered = requests[0]["tools"]?.arrayValue?.compactMap { $0["function"]?["name"]?.stringValue }
        #expect(offered == ["sql_select", "csv_summarize", "workspace_note"])
        let earlierCalls = requests[1]["messages"]?.arrayValue?.compactMap { $0["tool_calls"]?.arrayValue }.joined()
        #expect(earlierCalls?.compactMap { $0["function"]?["name"]?.stringValue } == ["sql_select", "sql_select"])
        #expect(requests[0]["messages"]?.arrayValue?[1]["content"] == "How many sites and incidents?\n")
        let second = try #require(requests[1]["messages"]?.arrayValue)
        let toolReplies = second.filter { $0["role"] == "tool" }
        #expect(toolReplies.compactMap { $0["tool_call_id"]?.stringValue } == ["q1", "call-1-2"])
        #expect(toolReplies.first?["content"]?.stringValue?.contains("Rotterdam") == true)
        let third = try #require(requests[2]["messages"]?.arrayValue)
        let replies = third.filter { $0["role"] == "tool" }.suffix(3)
        let malformed = try #require(replies.first?["content"]?.stringValue)
        #expect(malformed.contains("builtin.schema-invalid"))
        #expect(malformed.contains("duplicate key"))
        #expect(replies.dropFirst().first?["content"]?.stringValue?.contains("builtin.not-in-workflow") == true)
        #expect(replies.last?["content"]?.stringValue?.contains("\"rows\"") == true)

        let (events, verification) = try fixture.trace(outcome.runID)
        #expect(verification.status == .intact, "\(verification.summary)")
        let types = events.map(\.0)
        #expect(types.first == "run.started")
        #expect(types.last == "run.finished")
        #expect(types.filter { $0 == "model.request" }.count == 3)
        #expect(types.filter { $0 == "model.response" }.count == 3)
        #expect(types.filter { $0 == "tool.proposed" }.count == 5)
        #expect(types.filter { $0 == "tool.executed" }.count == 3)
        #expect(types.filter { $0 == "tool.result" }.count == 5)
        #expect(types.contains("approval.requested") && types.contains("approval.granted"))
        let decisions = events.filter { $0.0 == "policy.decision" }.map(\.1)
        let rules = decisions.compactMap { $0["rules"]?.arrayValue?.first?.stringValue }
        #expect(rules.contains("approval.large-extract"))
        #expect(rules.contains("builtin.schema-invalid"))
        #expect(rules.contains("builtin.not-in-workflow"))
        #expect(decisions.contains { $0["after_approval"] == true && $0["decision"] == "allow" })
        let executed = try #require(events.first { $0.0 == "tool.executed" }?.1)
        #expect(executed["record"]?["confinement"]?["namespaces"]?.arrayValue?.isEmpty == false)
        #expect(events.contains { $0.0 == "error" && $0.1["code"] == "malformed-call" })
        #expect(events.first?.1["model"]?["kind"] == "openai-compatible")
        #expect(events.last?.1["status"] == "succeeded")
        #expect(events.last?.1["labels"] == ["internal"])
    }

    @Test("a drifted executable is denied by the policy's digest guard before anything runs")
    func digestDrift() async throws {
        let tool = try fixture.registry.resolve("logs.search")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.objectURL.path)
        let handle = try FileHandle(forWritingTo: tool.objectURL)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n# tampered\n".utf8))
        try handle.close()
        let model = ScriptedModel(responses: [
            ChatResponse(
                message: ChatMessage(
                    role: .assistant, content: nil,
                    toolCalls: [ModelToolCall(id: "d", name: "logs.search", arguments: #"{"pattern": "ERROR"}"#)])),
            ChatResponse(message: ChatMessage(role: .assistant, content: "could not search")),
        ])
        let outcome = try await fixture.loop(try AgentFixture.workflow("log-triage"), model: model).run(
            parameters: [:], store: fixture.store, key: fixture.key)
        #expect(outcome.status == .succeeded)
        #expect(outcome.executed == 0)
        let (events, verification) = try fixture.trace(outcome.runID)
        #expect(verification.status == .intact)
        let decision = try #require(events.first { $0.0 == "policy.decision" }?.1)
        #expect(decision["rules"] == ["builtin.digest-drift"])
        #expect(decision["tags"]?.arrayValue?.contains("asi:04") == true)
        #expect(!events.contains { $0.0 == "tool.executed" })
    }

    @Test("a spent step budget ends the run as budget_exhausted, recorded and verifiable")
    func budgetStop() async throws {
        // Two different calls: an identical second one would be answered from the record.
        let server = try ChatTestServer(replies: [
            .completion(calls: [(nil, "logs.search", #"{"pattern": "ERROR", "max_matches": 5}"#)]),
            .completion(calls: [(nil, "logs.search", #"{"pattern": "WARN", "max_matches": 5}"#)]),
            .completion(content: "never reached"),
        ])
        defer { server.stop() }
        var budgets = Workflow.Budgets()
        budgets.maxSteps = 2
        let loop = try fixture.loop(
            try AgentFixture.workflow("log-triage", budgets: budgets), model: try client(server))
        let outcome = try await loop.run(parameters: [:], store: fixture.store, key: fixture.key)
        #expect(outcome.status == .budgetExhausted)
        #expect(outcome.message.contains("step budget (2"))
        #expect(outcome.executed == 2)
        #expect(server.requests.count == 2)
        // The last request the budget allows offers no tools: the model is asked for its answer.
        #expect(server.requests[0]["tools"] != nil)
        #expect(server.requests[1]["tools"] == nil)
        let (events, verification) = try fixture.trace(outcome.runID)
        #expect(verification.status == .intact)
        #expect(events.contains { $0.0 == "model.request" && $0.1["step"] == 2 && $0.1["answer_only"] != nil })
        #expect(!events.contains { $0.0 == "model.request" && $0.1["step"] == 1 && $0.1["answer_only"] != nil })
        #expect(events.contains { $0.0 == "error" && $0.1["stage"] == "budget" })
        #expect(events.last?.1["status"] == "budget_exhausted")
    }

    @Test("the tool-call budget denies the call above it and stops")
    func toolCallBudget() async throws {
        var budgets = Workflow.Budgets()
        budgets.maxToolCalls = 1
        let model = ScriptedModel(responses: [
            ChatResponse(
                message: ChatMessage(
                    role: .assistant, content: nil,
                    toolCalls: [
                        ModelToolCall(id: nil, name: "logs.search", arguments: #"{"pattern": "WARN"}"#),
                        ModelToolCall(id: nil, name: "logs.search", arguments: #"{"pattern": "INFO"}"#),
                    ]))
        ])
        let loop = try fixture.loop(try AgentFixture.workflow("log-triage", budgets: budgets), model: model)
        let outcome = try await loop.run(parameters: [:], store: fixture.store, key: fixture.key)
        #expect(outcome.status == .budgetExhausted)
        let (events, verification) = try fixture.trace(outcome.runID)
        #expect(verification.status == .intact)
        #expect(events.contains { $0.0 == "policy.decision" && $0.1["rules"] == ["agent.budget.tool-calls"] })
        #expect(events.first?.1["model"]?["kind"] == "scripted")
    }

    @Test("an approval with no terminal is denied and recorded; repeated refusals end the run")
    func noTerminalDenies() async throws {
        let large = #"{"query": "SELECT * FROM items", "max_rows": 300}"#
        let model = ScriptedModel(responses: [
            ChatResponse(
                message: ChatMessage(
                    role: .assistant, content: nil,
                    toolCalls: [
                        ModelToolCall(id: "a", name: "sql.select", arguments: large),
                        ModelToolCall(id: "b", name: "sql.select", arguments: large),
                    ]))
        ])
        let loop = try fixture.loop(
            try AgentFixture.workflow("dataset-report"), model: model, maxConsecutiveDenials: 2)
        let outcome = try await loop.run(parameters: ["question": "q"], store: fixture.store, key: fixture.key)
        #expect(outcome.status == .denied)
        #expect(outcome.executed == 0)
        let (events, verification) = try fixture.trace(outcome.runID)
        #expect(verification.status == .intact)
        let refusals = events.filter { $0.0 == "approval.denied" }
        #expect(refusals.count == 2)
        #expect(refusals.first?.1["approver"] == "no-terminal")
        #expect(events.last?.1["status"] == "denied")
    }

    @Test("a model that is down ends the run as model_unreachable, recorded")
    func modelDown() async throws {
        let client = try OpenAIChatClient(
            endpoint: .unix(
                path: "/tmp/al-down-\(UUID().uuidString.prefix(8)).sock", requestPath: "/v1/chat/completions"),
            configuration: .init(connectRetries: 1, initialBackoffSeconds: 0.01))
        let loop = try fixture.loop(try AgentFixture.workflow("log-triage"), model: client)
        let outcome = try await loop.run(parameters: [:], store: fixture.store, key: fixture.key)
        #expect(outcome.status == .modelUnreachable)
        let (events, verification) = try fixture.trace(outcome.runID)
        #expect(verification.status == .intact)
        #expect(events.contains { $0.0 == "error" && $0.1["stage"] == "model" && $0.1["code"] == "unreachable" })
    }
}
