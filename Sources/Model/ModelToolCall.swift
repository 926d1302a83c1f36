import AirlockCore

/// One tool call the model proposed, as it arrived: the arguments are the raw JSON text, parsed
/// (strictly) by the agent, not here.
public struct ModelToolCall: Sendable, Hashable {
    /// The call's id, or `nil` when the server sent none (the agent makes one).
    public var id: String?
    /// The tool name exactly as proposed.
    public var name: String
    /// The arguments as the model wrote them (a JSON string in the OpenAI shape).
    public var arguments: String

    /// Creates a call.
    public init(id: String?, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    /// The OpenAI wire form: `{"id", "type": "function", "function": {"name", "arguments"}}`.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "type": "function", "function": ["name": .string(name), "arguments": .string(arguments)],
        ]
        if let id { object["id"] = .string(id) }
        return .object(object)
    }
}
