import AirlockCore

/// One tool call the model proposed, as it arrived: the arguments are the raw JSON text, parsed
/// (strictly) by the agent, not here.
public struct ModelToolCall: Sendable, Hashable, Codable {
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

    private enum CodingKeys: String, CodingKey { case id, type, function }
    private enum FunctionKeys: String, CodingKey { case name, arguments }

    /// Reads the wire form (``json``'s shape).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        let function = try c.nestedContainer(keyedBy: FunctionKeys.self, forKey: .function)
        name = try function.decode(String.self, forKey: .name)
        arguments = try function.decode(String.self, forKey: .arguments)
    }

    /// Writes the wire form, exactly as ``json``.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encode("function", forKey: .type)
        var function = c.nestedContainer(keyedBy: FunctionKeys.self, forKey: .function)
        try function.encode(name, forKey: .name)
        try function.encode(arguments, forKey: .arguments)
    }
}
