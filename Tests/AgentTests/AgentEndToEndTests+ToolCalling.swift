import Agent
import AirlockCore
import AirlockTestSupport
import Foundation
import Model
import Sandbox
import Testing
import Trace

/// Both tool calling modes through a real HTTP server on a unix socket, and a whole run in
/// constrained mode: the reply objects become calls the agent loop handles as usual.
extension AgentEndToEndTests {
    static let dottedTools: [JSONValue] = [
        ["type": "function", "function": ["name": "logs.search", "parameters": ["type": "object"]]],
        ["type": "function", "function": ["name": "logs_search", "parameters": ["type": "object"]]],
    ]

    @Test("native: dotted names go out mapped and come back as the tool's name")
    func nativeNameMapping() async throws {
        let server = try ChatTestServer(replies: [
            .completion(calls: [("a", "logs_search-2", "{}"), ("b", "logs_search", "{}"), ("c", "made_up", "{}")])
        ])
        defer { server.stop() }
        let request = ChatRequest(messages: [ChatMessage(role: .user, content: "go")], tools: Self.dottedTools)
        let response = try await client(server).complete(request)
        #expect(response.message.toolCalls.map(\.name) == ["logs.search", "logs_search", "made_up"])
        let sent = try #require(server.requests.first)
        #expect(
            sent["tools"]?.arrayValue?.compactMap { $0["function"]?["name"]?.stringValue } == [
                "logs_search-2", "logs_search",
            ])
    }

    @Test("constrained: response_format instead of tools; the object comes back as a call, bad content as an error")
    func constrainedOverHTTP() async throws {
        let server = try ChatTestServer(replies: [
            .completion(content: #"{"tool": "logs.search", "tool_input": {"pattern": "ERROR"}}"#),
            .completion(content: "I cannot call tools."),
        ])
        defer { server.stop() }
        let request = ChatRequest(
            messages: [ChatMessage(role: .user, content: "go")], tools: Self.dottedTools, toolCalling: .constrained)
        let response = try await client(server).complete(request)
        #expect(
            response.message.toolCalls == [
                ModelToolCall(id: nil, name: "logs.search", arguments: #"{"pattern":"ERROR"}"#)
            ])
        let sent = try #require(server.requests.first)
        #expect(sent["tools"] == nil && sent["tool_choice"] == nil)
        #expect(sent["response_format"] == ConstrainedToolCalling.responseFormat(tools: Self.dottedTools))
        #expect(sent["messages"]?.arrayValue?.first?["role"] == "system")
        let error = await #expect(throws: ModelError.self) { try await client(server).complete(request) }
        #expect(error?.code == .invalidToolReply)
        #expect(error?.message.contains(#""I cannot call tools.""#) == true)
    }

    @Test("a constrained run: the policy-narrowed offer, a call that runs in the sandbox, a final answer, all traced")
    func constrainedRun() async throws {
        let server = try ChatTestServer(replies: [
            .completion(content: #"{"tool": "logs.search", "tool_input": {"pattern": "ERROR", "max_matches": 5}}"#),
            .completion(content: #"{"final": "Payments time out; fix first."}"#),
        ])
        defer { server.stop() }
        let loop = try fixture.loop(
            try AgentFixture.workflow("log-triage"), model: try client(server), toolCalling: .constrained)
        let outcome = try await loop.run(parameters: [:], store: fixture.store, key: fixture.key)
        #expect(outcome.status == .succeeded)
        #expect(outcome.answer == "Payments time out; fix first.")
        #expect(outcome.executed == 1)

        let requests = server.requests
        #expect(requests.count == 2)
        let branches = try #require(requests[0]["response_format"]?["json_schema"]?["schema"]?["oneOf"]?.arrayValue)
        #expect(
            branches.compactMap { $0["properties"]?["tool"]?["const"]?.stringValue }
                == ["logs.search", "workspace.note", "workspace.read"])
        let note = branches[1]["properties"]?["tool_input"]?["properties"]?["text"]
        #expect(note == ["type": "string", "minLength": 1, "maxLength": 4000])
        let second = try #require(requests[1]["messages"]?.arrayValue)
        #expect(
            second[2] == [
                "role": "assistant",
                "content": #"{"tool":"logs.search","tool_input":{"max_matches":5,"pattern":"ERROR"}}"#,
            ])
        #expect(second[3]["role"] == "user")
        #expect(second[3]["content"]?.stringValue?.hasPrefix("Result of logs.search:\n") == true)
        #expect(second[3]["content"]?.stringValue?.contains("ERROR") == true)

        let (events, verification) = try fixture.trace(outcome.runID)
        #expect(verification.status == .intact)
        let model = events.first?.1["model"]
        #expect(model?["tool_calling"] == "constrained")
        #expect(model?["constrained"]?["excluded_tools"] == [:])
        #expect(model?["constrained"]?["reply_schema_sha256"]?.stringValue?.count == 64)
        #expect(events.contains { $0.0 == "tool.executed" })
    }

    @Test("a constrained reply that is not an allowed object ends the run as model_error, recorded with the excerpt")
    func constrainedMalformedReply() async throws {
        let server = try ChatTestServer(replies: [.completion(content: #"{"tool": "logs.search", "tool_input": {"pat"#)]
        )
        defer { server.stop() }
        let loop = try fixture.loop(
            try AgentFixture.workflow("log-triage"), model: try client(server), toolCalling: .constrained)
        let outcome = try await loop.run(parameters: [:], store: fixture.store, key: fixture.key)
        #expect(outcome.status == .modelError)
        let (events, verification) = try fixture.trace(outcome.runID)
        #expect(verification.status == .intact)
        let error = try #require(events.first { $0.0 == "error" }?.1)
        #expect(error["code"] == "invalid-tool-reply")
        #expect(error["message"]?.stringValue?.contains(#"{\"tool\": \"logs.search\""#) == true)
    }
}
