import AirlockCore
import Model
import Trace

/// `model.request`: what the model was sent at one step. Only the messages not recorded by an
/// earlier request are listed, so the trace grows linearly; `message_count` is the whole count.
public struct ModelRequest: RunEventPayload {
    public static let type = TraceEventType.modelRequest
    /// The model's name as the client reports it.
    public var model: String
    /// `openai-compatible` or `scripted`.
    public var kind: String
    /// The step (1 for the first request).
    public var step: Int
    /// The messages added since the previous request, in order.
    public var messages: [ChatMessage]
    /// How many messages the conversation holds with these.
    public var messageCount: Int
    /// Why no tools were offered, when the budget allowed no further call.
    public var answerOnly: String?

    /// Creates the record of a request.
    public init(
        model: String, kind: String, step: Int, messages: [ChatMessage], messageCount: Int, answerOnly: String? = nil
    ) {
        self.model = model
        self.kind = kind
        self.step = step
        self.messages = messages
        self.messageCount = messageCount
        self.answerOnly = answerOnly
    }

    enum CodingKeys: String, CodingKey {
        case model, kind, step, messages
        case messageCount = "message_count"
        case answerOnly = "answer_only"
    }
}

/// `model.response`: the model's answer at one step, its proposed calls with the ids the agent
/// gave those that came without one.
public struct ModelResponse: RunEventPayload {
    public static let type = TraceEventType.modelResponse
    /// The model's name.
    public var model: String
    /// Its kind.
    public var kind: String
    /// The step.
    public var step: Int
    /// The answer's text, if any.
    public var content: String?
    /// The proposed calls, in order.
    public var toolCalls: [ModelToolCall]
    /// The server's finish reason, if it gave one.
    public var finishReason: String?
    /// Token counts, when the server reported them.
    public var usage: Usage

    /// Token counts.
    public struct Usage: Sendable, Hashable, Codable {
        /// Prompt tokens.
        public var inputTokens: Int64?
        /// Completion tokens.
        public var outputTokens: Int64?

        /// Creates token counts.
        public init(inputTokens: Int64?, outputTokens: Int64?) {
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
        }

        enum CodingKeys: String, CodingKey {
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
        }

        /// Writes both counts, `null` for one not reported.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(inputTokens, forKey: .inputTokens)
            try c.encode(outputTokens, forKey: .outputTokens)
        }
    }

    /// Creates the record of an answer.
    public init(
        model: String, kind: String, step: Int, content: String?, toolCalls: [ModelToolCall], finishReason: String?,
        usage: Usage
    ) {
        self.model = model
        self.kind = kind
        self.step = step
        self.content = content
        self.toolCalls = toolCalls
        self.finishReason = finishReason
        self.usage = usage
    }

    /// The answer as the model gave it back, for a replay to hand to the loop again.
    public var response: ChatResponse {
        ChatResponse(
            message: ChatMessage(role: .assistant, content: content, toolCalls: toolCalls), finishReason: finishReason,
            inputTokens: usage.inputTokens, outputTokens: usage.outputTokens)
    }

    enum CodingKeys: String, CodingKey {
        case model, kind, step, content, usage
        case toolCalls = "tool_calls"
        case finishReason = "finish_reason"
    }

    /// Writes `content` and `finish_reason` as `null` when absent, as every earlier trace did.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(kind, forKey: .kind)
        try c.encode(step, forKey: .step)
        try c.encode(content, forKey: .content)
        try c.encode(toolCalls, forKey: .toolCalls)
        try c.encode(finishReason, forKey: .finishReason)
        try c.encode(usage, forKey: .usage)
    }
}
