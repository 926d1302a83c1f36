import AirlockCore

/// One tool call the model proposed, as it arrived: the arguments are the raw JSON text, parsed
/// (strictly) by the agent, not here.
public struct ModelToolCall: Sendable, Hashable, Codable {
    /// The call's id, or `nil` when the server sent none or one that is not a ``isValidID(_:)``
    /// (the agent then makes one).
    public var id: String?
    /// The tool name exactly as proposed.
    public var name: String
    /// The arguments as the model wrote them (a JSON string in the OpenAI shape).
    public var arguments: String

    /// The longest call id kept, in bytes.
    public static let maxIDBytes = 128

    /// Whether `id` can be kept as the call's id: 1 to ``maxIDBytes`` of ASCII letters, digits,
    /// `_`, `-`, `.` and `:` (OpenAI's `call_…`, llama.cpp's random ids). The id is the model's
    /// text, yet it is printed in the approval prompt and progress lines and names the call in
    /// the trace: an escape sequence, `\r` or a bidi override in it could make the prompt show
    /// another call than the one being approved.
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= maxIDBytes
            && id.utf8.allSatisfy { b in
                (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
                    || b == 0x5F || b == 0x2D || b == 0x2E || b == 0x3A
            }
    }

    /// Creates a call; an `id` that is not ``isValidID(_:)`` is dropped, so the agent names the
    /// call itself (`call-STEP-N`).
    public init(id: String?, name: String, arguments: String) {
        self.id = id.flatMap { Self.isValidID($0) ? $0 : nil }
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
