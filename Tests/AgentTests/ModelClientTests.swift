import AirlockCore
import AirlockTestSupport
import Foundation
import Model
import Testing

/// The OpenAI-compatible client against a real HTTP server on a unix socket.
@Suite("Model client over a unix socket")
struct ModelClientTests {
    func client(_ server: ChatTestServer, _ configuration: OpenAIChatClient.Configuration = .init()) throws
        -> OpenAIChatClient
    {
        try OpenAIChatClient(
            endpoint: .unix(path: server.path, requestPath: "/v1/chat/completions"), configuration: configuration)
    }

    let request = ChatRequest(
        messages: [ChatMessage(role: .user, content: "hi")],
        tools: [["type": "function", "function": ["name": "logs.search", "parameters": ["type": "object"]]]],
        temperature: 0.1, maxTokens: 64, seed: 7)

    @Test func contentLengthReplyWithToolCallsWithoutIDs() async throws {
        let server = try ChatTestServer(replies: [.completion(calls: [(nil, "logs.search", #"{"pattern":"ERROR"}"#)])])
        defer { server.stop() }
        let response = try await client(server).complete(request)
        let call = try #require(response.message.toolCalls.first)
        #expect(call.id == nil)
        #expect(call.name == "logs.search")
        #expect(call.arguments == #"{"pattern":"ERROR"}"#)
        #expect(response.finishReason == "tool_calls")
        #expect(response.outputTokens == 5)
        let sent = try #require(server.requests.first)
        // Native tool calling maps names to what OpenAI-style APIs accept, and back.
        #expect(sent["tools"]?.arrayValue?.first?["function"]?["name"] == "logs_search")
        #expect(sent["seed"] == 7)
        #expect(sent["messages"]?.arrayValue?.first?["content"] == "hi")
    }

    @Test func loopbackTCP() async throws {
        let server = try ChatTestServer(tcpReplies: [.completion(content: "over tcp")])
        defer { server.stop() }
        let endpoint = try ModelEndpoint.parse("http://127.0.0.1:\(server.port)")
        let response = try await OpenAIChatClient(endpoint: endpoint).complete(request)
        #expect(response.message.content == "over tcp")
        #expect(server.requests.count == 1)
    }

    @Test func chunkedReply() async throws {
        let server = try ChatTestServer(replies: [
            .completion(content: String(repeating: "chunked answer ", count: 20), chunked: true)
        ])
        defer { server.stop() }
        let response = try await client(server).complete(request)
        #expect(response.message.content == String(repeating: "chunked answer ", count: 20))
    }

    @Test func httpErrorCarriesItsBody() async throws {
        let server = try ChatTestServer(replies: [.init(status: 503, body: Array("model is loading".utf8))])
        defer { server.stop() }
        let error = await #expect(throws: ModelError.self) { try await client(server).complete(request) }
        #expect(error?.code == .httpStatus)
        #expect(error?.message.contains("HTTP 503: model is loading") == true)
    }

    @Test func malformedJSONAndWrongShape() async throws {
        let server = try ChatTestServer(replies: [
            .init(body: Array("{\"choices\": [".utf8)), .init(body: Array(#"{"object": "chat.completion"}"#.utf8)),
        ])
        defer { server.stop() }
        let first = await #expect(throws: ModelError.self) { try await client(server).complete(request) }
        #expect(first?.code == .malformedResponse)
        #expect(first?.message.contains("not valid JSON") == true)
        let second = await #expect(throws: ModelError.self) { try await client(server).complete(request) }
        #expect(second?.code == .malformedResponse)
        #expect(second?.message.contains("/choices") == true)
    }

    @Test func responseBound() async throws {
        let server = try ChatTestServer(replies: [.completion(content: String(repeating: "x", count: 4096))])
        defer { server.stop() }
        let error = await #expect(throws: ModelError.self) {
            try await client(server, .init(maxResponseBytes: 1024)).complete(request)
        }
        #expect(error?.code == .responseTooLarge)
    }

    @Test func serverDownIsUnreachableAfterRetries() async throws {
        let client = try OpenAIChatClient(
            endpoint: .unix(
                path: "/tmp/al-no-such-\(UUID().uuidString.prefix(8)).sock", requestPath: "/v1/chat/completions"),
            configuration: .init(connectRetries: 2, initialBackoffSeconds: 0.01))
        let error = await #expect(throws: ModelError.self) { try await client.complete(request) }
        #expect(error?.code == .unreachable)
        #expect(error?.message.contains("after 3 attempt(s)") == true)
    }
}
