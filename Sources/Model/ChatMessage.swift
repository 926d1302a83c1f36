import AirlockCore

/// One message of a chat-completions conversation.
public struct ChatMessage: Sendable, Hashable, Codable {
    /// Who speaks.
    public enum Role: String, Sendable, Hashable, Codable {
        /// Instructions for the model.
        case system
        /// The analyst's task.
        case user
        /// The model.
        case assistant
        /// A tool's result (or the runtime's answer about a call), tied to it by `tool_call_id`.
        case tool
    }

    /// Who speaks.
    public var role: Role
    /// The text, or `nil` for an assistant message that only proposes calls.
    public var content: String?
    /// The calls an assistant message proposes.
    public var toolCalls: [ModelToolCall]
    /// For a `tool` message: the call it answers.
    public var toolCallID: String?

    /// Creates a message.
    public init(role: Role, content: String?, toolCalls: [ModelToolCall] = [], toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
    }

    /// The OpenAI wire form.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "role": .string(role.rawValue), "content": content.map(JSONValue.string) ?? .null,
        ]
        if !toolCalls.isEmpty { object["tool_calls"] = .array(toolCalls.map(\.json)) }
        if let toolCallID { object["tool_call_id"] = .string(toolCallID) }
        return .object(object)
    }

    private enum CodingKeys: String, CodingKey {
        case role, content
        case toolCalls = "tool_calls"
        case toolCallID = "tool_call_id"
    }

    /// Reads the wire form (``json``'s shape).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        role = try c.decode(Role.self, forKey: .role)
        content = try c.decodeIfPresent(String.self, forKey: .content)
        toolCalls = try c.decodeIfPresent([ModelToolCall].self, forKey: .toolCalls) ?? []
        toolCallID = try c.decodeIfPresent(String.self, forKey: .toolCallID)
    }

    /// Writes the wire form: `content` always (null for none), `tool_calls` and `tool_call_id`
    /// only when present, exactly as ``json``.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        if let content { try c.encode(content, forKey: .content) } else { try c.encodeNil(forKey: .content) }
        if !toolCalls.isEmpty { try c.encode(toolCalls, forKey: .toolCalls) }
        try c.encodeIfPresent(toolCallID, forKey: .toolCallID)
    }
}
