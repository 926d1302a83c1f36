import AirlockCore
import Model

/// The model's stand-in during a replay: answers each request with the next recorded
/// `model.response`, under the recorded model's name and kind, whatever the request says.
public final class ReplayModel: ChatModel {
    /// The recorded responses, in order.
    public let responses: RecordedSequence<ChatResponse>
    /// The recorded model's name.
    public let name: String
    /// The recorded model's kind.
    public let kind: String

    /// Creates a model from recorded `model.response` payloads (blobs resolved).
    /// - Parameters:
    ///   - payloads: the `model.response` payloads in order.
    ///   - name: the recorded model name.
    ///   - kind: the recorded model kind.
    public init(payloads: [JSONValue], name: String, kind: String) {
        self.name = name
        self.kind = kind
        self.responses = RecordedSequence(
            payloads.map { payload in
                let calls = (payload["tool_calls"]?.arrayValue ?? []).map { call in
                    ModelToolCall(
                        id: call["id"]?.stringValue, name: call["function"]?["name"]?.stringValue ?? "",
                        arguments: call["function"]?["arguments"]?.stringValue ?? "")
                }
                return ChatResponse(
                    message: ChatMessage(role: .assistant, content: payload["content"]?.stringValue, toolCalls: calls),
                    finishReason: payload["finish_reason"]?.stringValue,
                    inputTokens: payload["usage"]?["input_tokens"]?.integerValue,
                    outputTokens: payload["usage"]?["output_tokens"]?.integerValue)
            })
    }

    /// The next recorded response.
    /// - Throws: ``ModelError`` `script-exhausted` when the replay asks for more than was recorded.
    public func complete(_ request: ChatRequest) async throws(ModelError) -> ChatResponse {
        guard let response = responses.next() else {
            throw ModelError(
                .scriptExhausted,
                "replay: the run recorded \(responses.items.count) model responses; the replay asked for more")
        }
        return response
    }
}
