import AirlockCore

/// A chat-completions request: the conversation, the tools offered and the sampling settings.
public struct ChatRequest: Sendable, Hashable {
    /// The conversation so far.
    public var messages: [ChatMessage]
    /// Tool descriptions in the OpenAI shape (`{"type": "function", "function": {…}}`).
    public var tools: [JSONValue]
    /// The model name sent to the server (servers serving one model ignore it).
    public var model: String
    /// Sampling temperature, or `nil` for the server's default.
    public var temperature: Double?
    /// The most tokens to generate, or `nil` for the server's default.
    public var maxTokens: Int?
    /// The sampling seed, or `nil`.
    public var seed: Int?

    /// Creates a request.
    public init(
        messages: [ChatMessage], tools: [JSONValue] = [], model: String = "local", temperature: Double? = nil,
        maxTokens: Int? = nil, seed: Int? = nil
    ) {
        self.messages = messages
        self.tools = tools
        self.model = model
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.seed = seed
    }

    /// The request body: `{"model", "messages", "tools", "tool_choice": "auto", …}`.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "model": .string(model), "messages": .array(messages.map(\.json)), "stream": false,
        ]
        if !tools.isEmpty {
            object["tools"] = .array(tools)
            object["tool_choice"] = "auto"
        }
        if let temperature { object["temperature"] = .number(temperature) }
        if let maxTokens { object["max_tokens"] = .integer(Int64(maxTokens)) }
        if let seed { object["seed"] = .integer(Int64(seed)) }
        return .object(object)
    }
}
