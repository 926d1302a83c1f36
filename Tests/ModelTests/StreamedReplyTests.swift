import AirlockCore
import Model
import Testing

/// A reply streamed as server-sent events is assembled into the same response a whole JSON
/// reply gives: through the client's own reply parser, over bytes as llama-server sends them.
@Suite("Streamed replies (server-sent events)")
struct StreamedReplyTests {
    /// An HTTP/1.1 reply with `events` as `data:` lines, chunked, `[DONE]` at the end.
    static func reply(_ events: [String], done: Bool = true) -> [UInt8] {
        var body = events.map { "data: \($0)\n\n" }.joined()
        if done { body += "data: [DONE]\n\n" }
        let half = body.utf8.count / 2
        let bytes = Array(body.utf8)
        var out = Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        // Two chunks that split an event in the middle: lines are assembled across reads.
        for part in [bytes[..<half], bytes[half...]] {
            out += Array(String(part.count, radix: 16).utf8) + [13, 10] + part + [13, 10]
        }
        return out + Array("0\r\n\r\n".utf8)
    }

    @Test func textDeltasFinishReasonAndUsageAreAssembled() throws {
        let response = try OpenAIChatClient.parseReply(
            Self.reply([
                #"{"choices":[{"index":0,"delta":{"role":"assistant","content":null},"finish_reason":null}]}"#,
                #"{"choices":[{"index":0,"delta":{"content":"Two ledger"},"finish_reason":null}]}"#,
                #"{"choices":[{"index":0,"delta":{"content":" timeouts."},"finish_reason":null}]}"#,
                #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
                #"{"choices":[],"usage":{"prompt_tokens":40,"completion_tokens":2},"timings":{"predicted_n":2}}"#,
            ]))
        #expect(response.message.content == "Two ledger timeouts.")
        #expect(response.finishReason == "stop")
        #expect(response.inputTokens == 40)
        #expect(response.outputTokens == 2)
        // llama-server's own clock survives streaming, as in a whole reply (the model benchmark's anchor).
        #expect(response.serverTimings == ["predicted_n": 2])
    }

    @Test func toolCallFragmentsAreJoinedByIndex() throws {
        let response = try OpenAIChatClient.parseReply(
            Self.reply([
                #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"logs.search","arguments":"{\"pat"}}]}}]}"#,
                #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c2","type":"function","function":{"name":"workspace.note","arguments":"{}"}}]}}]}"#,
                #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"tern\":\"ERROR\"}"}}]}}]}"#,
                #"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            ]))
        #expect(response.message.toolCalls.map(\.name) == ["logs.search", "workspace.note"])
        #expect(response.message.toolCalls.map(\.id) == ["c1", "c2"])
        #expect(response.message.toolCalls.first?.arguments == #"{"pattern":"ERROR"}"#)
        #expect(response.finishReason == "tool_calls")
    }

    @Test func anErrorEventABadEventAndAnEmptyStreamAreErrors() throws {
        let failed = #expect(throws: ModelError.self) {
            try OpenAIChatClient.parseReply(Self.reply([#"{"error":{"code":500,"message":"context full"}}"#]))
        }
        #expect(failed?.code == .httpStatus)
        #expect(failed?.message.contains("context full") == true)
        let bad = #expect(throws: ModelError.self) { try OpenAIChatClient.parseReply(Self.reply(["{not json"])) }
        #expect(bad?.code == .malformedResponse)
        #expect(bad?.message.contains("not JSON") == true)
        let empty = #expect(throws: ModelError.self) { try OpenAIChatClient.parseReply(Self.reply([])) }
        #expect(empty?.code == .malformedResponse)
    }
}
