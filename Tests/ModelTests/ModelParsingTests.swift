import AirlockCore
import Foundation
import Model
import Testing

/// Endpoints and the air-gap rule, the chat-completions shapes, the scripted model.
@Suite("Model endpoints, shapes and scripts")
struct ModelParsingTests {
    @Test func endpoints() throws {
        #expect(
            try ModelEndpoint.parse("unix:/run/m.sock")
                == .unix(path: "/run/m.sock", requestPath: "/v1/chat/completions"))
        #expect(
            try ModelEndpoint.parse("http://127.0.0.1:8080")
                == .tcp(host: "127.0.0.1", port: 8080, requestPath: "/v1/chat/completions"))
        #expect(try ModelEndpoint.parse("http://[::1]:9/x") == .tcp(host: "::1", port: 9, requestPath: "/x"))
        #expect(
            try ModelEndpoint.parse("http://localhost:1")
                == .tcp(host: "localhost", port: 1, requestPath: "/v1/chat/completions"))
        #expect(
            try ModelEndpoint.parse("script:s.yaml", base: URL(fileURLWithPath: "/w")) == .script(path: "/w/s.yaml"))
        let bad = #expect(throws: ModelError.self) { try ModelEndpoint.parse("ftp://x") }
        #expect(bad?.code == .invalidEndpoint)
        let port = #expect(throws: ModelError.self) { try ModelEndpoint.parse("http://127.0.0.1:99999") }
        #expect(port?.message.contains("port") == true)
    }

    @Test func airGapRefusesOtherHostsUnlessListed() throws {
        let refused = #expect(throws: ModelError.self) { try ModelEndpoint.parse("http://10.1.2.3:8000") }
        #expect(refused?.code == .endpointRefused)
        #expect(refused?.message.contains("not a unix socket or loopback") == true)
        #expect(refused?.message.contains("model_hosts") == true)
        let https = #expect(throws: ModelError.self) { try ModelEndpoint.parse("https://api.example.com") }
        #expect(https?.code == .invalidEndpoint)
        #expect(
            try ModelEndpoint.parse("http://gpu-1.internal:8000", allowedHosts: ["gpu-1.internal"])
                == .tcp(host: "gpu-1.internal", port: 8000, requestPath: "/v1/chat/completions"))
        #expect(!ModelEndpoint.isLoopback("127.0.0.1.evil.com"))
    }

    @Test func responseShapes() throws {
        let json = try JSONParser().parse(
            #"{"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"","function":{"name":"a.b","arguments":{"x":1}}},{"id":"c2","type":"function","function":{"name":"c","arguments":"{\"y\":"}}]},"finish_reason":"tool_calls"}]}"#
        )
        let response = try ChatResponse(json: json)
        #expect(response.message.toolCalls.map(\.id) == [nil, "c2"])
        #expect(response.message.toolCalls[0].arguments == #"{"x":1}"#)
        #expect(response.message.toolCalls[1].arguments == #"{"y":"#)
        let missing = #expect(throws: ModelError.self) {
            try ChatResponse(json: ["choices": [["message": ["tool_calls": [["function": [:]]]]]]])
        }
        #expect(missing?.message.contains("/choices/0/message/tool_calls/0/function/name") == true)
        let reply = ChatMessage(role: .tool, content: "{}", toolCallID: "c2").json
        #expect(reply["tool_call_id"] == "c2")
        #expect(reply["role"] == "tool")
    }

    @Test func scriptedModelPlaysInOrderAndSaysWhenSpent() async throws {
        let text = """
            responses:
              - tool_calls:
                  - {name: logs.search, arguments: {pattern: x}}
                  - {id: k, name: w, arguments: '{"a": 1, "a": 2}'}
              - content: done
            """
        let model = ScriptedModel(responses: try ScriptedModel.parse(text, label: "s.yaml"), name: "scripted:s.yaml")
        #expect(model.kind == "scripted")
        let first = try await model.complete(ChatRequest(messages: []))
        #expect(first.message.toolCalls[0].arguments == #"{"pattern":"x"}"#)
        #expect(first.message.toolCalls[1].arguments == #"{"a": 1, "a": 2}"#)
        #expect(try await model.complete(ChatRequest(messages: [])).message.content == "done")
        let spent = await #expect(throws: ModelError.self) { try await model.complete(ChatRequest(messages: [])) }
        #expect(spent?.code == .scriptExhausted)
    }

    @Test func malformedScriptsNameFieldAndLine() throws {
        let error = #expect(throws: ModelError.self) {
            try ScriptedModel.parse(
                "responses:\n  - content: ok\n  - tool_calls:\n      - {arguments: {}}\n", label: "s.yaml")
        }
        #expect(error?.code == .invalidScript)
        #expect(error?.message.contains("/responses/1/tool_calls/0/name") == true)
        let unknown = #expect(throws: ModelError.self) {
            try ScriptedModel.parse("responses:\n  - contnet: ok\n", label: "s.yaml")
        }
        #expect(unknown?.message.contains("/responses/0/contnet (line 2)") == true)
    }
}
