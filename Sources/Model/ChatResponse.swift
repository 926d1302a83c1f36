import AirlockCore

/// The model's answer: an assistant message (text, proposed calls, or both) and its metadata.
public struct ChatResponse: Sendable, Hashable {
    /// The assistant message.
    public var message: ChatMessage
    /// Why generation stopped (`stop`, `tool_calls`, `length`), when the server says.
    public var finishReason: String?
    /// Prompt tokens, when the server says.
    public var inputTokens: Int64?
    /// Generated tokens, when the server says.
    public var outputTokens: Int64?
    /// The server's own account of its time, when it gives one (llama.cpp's `timings`:
    /// `prompt_ms`, `predicted_ms`, `predicted_per_second`, …); used to measure the client's overhead.
    public var serverTimings: JSONValue?

    /// Creates a response.
    public init(
        message: ChatMessage, finishReason: String? = nil, inputTokens: Int64? = nil, outputTokens: Int64? = nil
    ) {
        self.message = message
        self.finishReason = finishReason
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }

    /// Reads the OpenAI chat-completions response shape (`choices[0].message`, `usage`).
    ///
    /// `function.arguments` is normally a JSON string; a server that sends an object (Ollama does)
    /// has it re-encoded as canonical JSON text, so the agent parses one form.
    /// - Throws: ``ModelError`` `malformed-response` naming the field.
    public init(json: JSONValue) throws(ModelError) {
        func malformed(_ what: String) -> ModelError {
            ModelError(.malformedResponse, "the model's reply is not a chat completion: \(what)")
        }
        guard let choice = json["choices"]?.arrayValue?.first else { throw malformed("/choices is missing or empty") }
        guard let message = choice["message"], message.objectValue != nil else {
            throw malformed("/choices/0/message is missing")
        }
        var calls: [ModelToolCall] = []
        if let list = message["tool_calls"], list != .null {
            guard let array = list.arrayValue else { throw malformed("/choices/0/message/tool_calls is not an array") }
            for (index, call) in array.enumerated() {
                let at = "/choices/0/message/tool_calls/\(index)"
                guard let function = call["function"], let name = function["name"]?.stringValue else {
                    throw malformed("\(at)/function/name is missing")
                }
                let arguments: String
                switch function["arguments"] {
                case .string(let text): arguments = text
                case nil, .null: arguments = "{}"
                case .some(let other): arguments = other.canonicalString
                }
                let id = call["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                calls.append(ModelToolCall(id: id, name: name, arguments: arguments))
            }
        }
        let content: String?
        switch message["content"] {
        case .string(let text): content = text
        case nil, .null: content = nil
        case .some: throw malformed("/choices/0/message/content is not a string")
        }
        self.init(
            message: ChatMessage(role: .assistant, content: content, toolCalls: calls),
            finishReason: choice["finish_reason"]?.stringValue,
            inputTokens: json["usage"]?["prompt_tokens"]?.integerValue,
            outputTokens: json["usage"]?["completion_tokens"]?.integerValue)
        serverTimings = json["timings"]
    }

    /// The response in the OpenAI shape (what a server sends; used by the scripted model's trace
    /// entries and by test servers).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "object": "chat.completion",
            "choices": [
                ["index": 0, "message": message.json, "finish_reason": finishReason.map(JSONValue.string) ?? .null]
            ],
        ]
        if inputTokens != nil || outputTokens != nil {
            object["usage"] = [
                "prompt_tokens": inputTokens.map(JSONValue.integer) ?? .null,
                "completion_tokens": outputTokens.map(JSONValue.integer) ?? .null,
            ]
        }
        return .object(object)
    }
}
