import AirlockCore
import Model
import Testing

/// A model server's reply read from its bytes by the client's own parser: whatever the server
/// sends, the answer is a response or a ``ModelError``, never a crash.
@Suite("Model reply parsing")
struct ModelReplyParsingTests {
    static func reply(_ head: String, _ body: String) -> [UInt8] { Array((head + "\r\n\r\n" + body).utf8) }

    @Test func contentLengthChunkedAndReadToCloseReadTheSameReply() throws {
        let body = #"{"choices":[{"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"#
        let length = try OpenAIChatClient.parseReply(
            Self.reply("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)", body))
        let chunked = try OpenAIChatClient.parseReply(
            Self.reply(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked",
                String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n0\r\n\r\n"))
        let closed = try OpenAIChatClient.parseReply(Self.reply("HTTP/1.1 200 OK", body))
        #expect(length.message.content == "hi")
        #expect(chunked == length && closed == length)
    }

    @Test func aChunkSizeNearIntMaxIsTooLargeNotAnOverflow() throws {
        // Found by `tools/fuzz model-reply`: the size check added before comparing and trapped.
        let error = #expect(throws: ModelError.self) {
            try OpenAIChatClient.parseReply(
                Self.reply(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", "1\r\n{\r\n7fffffffffffffff\r\nx\r\n0\r\n\r\n"))
        }
        #expect(error?.code == .responseTooLarge)
    }

    @Test func aServerErrorAndAMalformedReplyAreErrors() {
        let status = #expect(throws: ModelError.self) {
            try OpenAIChatClient.parseReply(Self.reply("HTTP/1.1 500 Oops\r\nContent-Length: 4", "oops"))
        }
        #expect(status?.code == .httpStatus)
        let garbage = #expect(throws: ModelError.self) { try OpenAIChatClient.parseReply(Array("SSH-2.0\r\n".utf8)) }
        #expect(garbage?.code == .malformedResponse)
    }
}
