import AirlockCore

/// Constrained tool calling: the request form and the reply parsing for ``ToolCallingMode/constrained``.
///
/// The tools go into the system prompt (name, description, argument schema) and the request
/// carries `response_format: {"type": "json_schema", …}` whose schema is the union (`oneOf`) of
///
/// - `{"tool": <const NAME>, "tool_input": <that tool's argument schema>}` for each tool offered,
/// - `{"final": <string>}` for the final answer.
///
/// The names sort `tool` before `tool_input`, and request bodies are canonical JSON (sorted keys),
/// so a grammar that follows the schema's property order makes the model choose the tool first.
/// The reply is parsed back into the ``ChatResponse`` shape of native calls, so the agent does
/// not know which mode ran. Earlier turns are rewritten for models without tool roles: a call
/// becomes the assistant's JSON object, a tool result a `user` message naming the tool.
public enum ConstrainedToolCalling {
    /// The field naming the tool to call.
    public static let toolField = "tool"
    /// The field holding the call's arguments.
    public static let argumentsField = "tool_input"
    /// The field holding the final answer.
    public static let finalField = "final"
    /// The `json_schema.name` sent with the schema.
    public static let schemaName = "airlock_reply"

    /// Tokens kept for the reply's JSON framing (`{"final": "` and `"}`) when the answer's length is
    /// bounded by the request's token limit.
    public static let framingTokens = 16

    /// The longest final answer, in characters, that surely closes its JSON object within
    /// `maxTokens` (a token is at least one character): a small model that starts repeating itself
    /// then ends a valid answer instead of being cut off mid-string.
    public static func finalMaxLength(maxTokens: Int) -> Int { max(framingTokens, maxTokens - framingTokens) }

    /// The schema of one reply: a `oneOf` of one object per tool and the final answer.
    /// - Parameters:
    ///   - tools: tool descriptions in the OpenAI shape (`{"type": "function", "function": {"name", "description", "parameters"}}`).
    ///   - finalMaxLength: the longest final answer in characters, or `nil` for no bound.
    public static func replySchema(tools: [JSONValue], finalMaxLength: Int? = nil) -> JSONValue {
        var branches: [JSONValue] = []
        for tool in tools {
            guard let function = tool["function"], let name = function["name"]?.stringValue else { continue }
            let parameters = function["parameters"] ?? ["type": "object"]
            branches.append(
                object(properties: [toolField: ["const": .string(name)], argumentsField: parameters]))
        }
        var final: [String: JSONValue] = ["type": "string"]
        if let finalMaxLength { final["maxLength"] = .integer(Int64(finalMaxLength)) }
        branches.append(object(properties: [finalField: .object(final)]))
        return ["oneOf": .array(branches)]
    }

    /// The `response_format` member of the request.
    /// - Parameters:
    ///   - tools: tool descriptions in the OpenAI shape.
    ///   - finalMaxLength: the longest final answer in characters, or `nil` for no bound.
    public static func responseFormat(tools: [JSONValue], finalMaxLength: Int? = nil) -> JSONValue {
        [
            "type": "json_schema",
            "json_schema": [
                "name": .string(schemaName), "strict": true,
                "schema": replySchema(tools: tools, finalMaxLength: finalMaxLength),
            ],
        ]
    }

    /// The text appended to the system prompt (with no tools: only how to give the answer): one line per tool, `NAME(ARG: TYPE, OPTIONAL?: TYPE):
    /// DESCRIPTION` (enums and integer ranges shown; a schema that is not a plain object is shown as
    /// canonical JSON), then how to answer. Compact, because small models follow short prompts best.
    /// - Parameter tools: tool descriptions in the OpenAI shape.
    public static func toolPrompt(tools: [JSONValue]) -> String {
        guard !tools.isEmpty else {
            return #"No tools are available. Answer with one JSON object: {"\#(finalField)": ANSWER}."#
        }
        var lines = ["Tools:"]
        for tool in tools {
            guard let function = tool["function"], let name = function["name"]?.stringValue else { continue }
            let description = function["description"]?.stringValue ?? ""
            let parameters = function["parameters"] ?? ["type": "object"]
            lines.append("- \(name)(\(signature(parameters))): \(description)")
        }
        lines.append(
            #"Answer with one JSON object: {"\#(toolField)": NAME, "\#(argumentsField)": {ARGUMENTS}} to call a tool, "#
                + #"or {"\#(finalField)": ANSWER} when you are done."#)
        return lines.joined(separator: "\n")
    }

    /// `pattern: string, max_matches?: integer 1..1000` for a plain object schema.
    static func signature(_ schema: JSONValue) -> String {
        guard let properties = schema["properties"]?.objectValue, schema["anyOf"] == nil, schema["oneOf"] == nil
        else { return "ARGUMENTS: " + schema.canonicalString }
        let required = Set((schema["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        let ordered = properties.keys.sorted {
            (required.contains($0) ? 0 : 1, $0) < (required.contains($1) ? 0 : 1, $1)
        }
        return ordered.map { key in
            let property = properties[key] ?? [:]
            return key + (required.contains(key) ? "" : "?") + ": " + typeText(property)
        }.joined(separator: ", ")
    }

    private static func typeText(_ schema: JSONValue) -> String {
        if let value = schema["const"] { return value.canonicalString }
        if let values = schema["enum"]?.arrayValue { return values.map(\.canonicalString).joined(separator: "|") }
        let type = schema["type"]?.stringValue ?? "any"
        if type == "integer" || type == "number", schema["minimum"] != nil || schema["maximum"] != nil {
            let low = schema["minimum"]?.canonicalString ?? ""
            let high = schema["maximum"]?.canonicalString ?? ""
            return "\(type) \(low)..\(high)"
        }
        return type
    }

    /// The conversation as sent in constrained mode: the tool prompt appended to the first system
    /// message (or a system message added), calls as the assistant's JSON objects, tool results
    /// as `user` messages.
    /// - Parameters:
    ///   - messages: the conversation in the native shape.
    ///   - tools: tool descriptions in the OpenAI shape.
    public static func messages(_ messages: [ChatMessage], tools: [JSONValue]) -> [ChatMessage] {
        var result: [ChatMessage] = []
        var callNames: [String: String] = [:]
        var prompted = false
        for message in messages {
            switch message.role {
            case .system where !prompted:
                prompted = true
                var base = message.content ?? ""
                while base.last?.isNewline == true { base.removeLast() }
                if !base.isEmpty { base += "\n\n" }
                result.append(ChatMessage(role: .system, content: base + toolPrompt(tools: tools)))
            case .assistant where !message.toolCalls.isEmpty:
                for call in message.toolCalls {
                    if let id = call.id { callNames[id] = call.name }
                    result.append(ChatMessage(role: .assistant, content: replyText(for: call)))
                }
            case .tool:
                let name = message.toolCallID.flatMap { callNames[$0] } ?? "the tool"
                result.append(ChatMessage(role: .user, content: "Result of \(name):\n\(message.content ?? "")"))
            default:
                result.append(ChatMessage(role: message.role, content: message.content))
            }
        }
        if !prompted { result.insert(ChatMessage(role: .system, content: toolPrompt(tools: tools)), at: 0) }
        return result
    }

    /// The reply object a call corresponds to, as text (arguments that are not a JSON object are
    /// kept as a string, as the model wrote them).
    static func replyText(for call: ModelToolCall) -> String {
        let arguments = (try? JSONParser().parse(Array(call.arguments.utf8))) ?? .string(call.arguments)
        let reply: JSONValue = [toolField: .string(call.name), argumentsField: arguments]
        return reply.canonicalString
    }

    /// Turns a constrained reply (the content is one JSON object) into a call or a final answer.
    /// - Parameter response: the server's response, its content the constrained object.
    /// - Returns: the response with a tool call (no content) or the final answer as content.
    /// - Throws: ``ModelError`` `invalid-tool-reply` with the start of the content when it is not
    ///   one of the allowed objects (also when generation stopped at the token limit).
    public static func parse(_ response: ChatResponse) throws(ModelError) -> ChatResponse {
        if !response.message.toolCalls.isEmpty { return response }
        let content = response.message.content ?? ""
        func invalid(_ why: String) -> ModelError {
            let excerpt = content.count > 200 ? String(content.prefix(200)) + "…" : content
            let truncated =
                response.finishReason == "length"
                ? " (generation stopped at the token limit: raise the workflow's model.max_tokens)" : ""
            return ModelError(
                .invalidToolReply,
                "constrained tool calling: the reply \(why)\(truncated); content: \(excerpt.debugDescription)")
        }
        let value: JSONValue
        do {
            value = try JSONParser().parse(Array(content.utf8))
        } catch {
            throw invalid("is not one JSON object (\(error))")
        }
        guard let members = value.objectValue else { throw invalid("is not a JSON object") }
        var reply = response
        if let name = members[toolField] {
            guard case .string(let tool) = name else { throw invalid("has /\(toolField) that is not a string") }
            let arguments = members[argumentsField] ?? [:]
            guard arguments.objectValue != nil else { throw invalid("has /\(argumentsField) that is not an object") }
            let unknown = members.keys.filter { $0 != toolField && $0 != argumentsField }
            guard unknown.isEmpty else { throw invalid("has unexpected field(s) \(unknown.sorted())") }
            reply.message = ChatMessage(
                role: .assistant, content: nil,
                toolCalls: [ModelToolCall(id: nil, name: tool, arguments: arguments.canonicalString)])
            // A reply the server cut at the token limit says so, whatever it parsed into.
            reply.finishReason = response.finishReason == "length" ? "length" : "tool_calls"
            return reply
        }
        if let final = members[finalField] {
            guard case .string(let text) = final else { throw invalid("has /\(finalField) that is not a string") }
            guard members.count == 1 else { throw invalid("has fields besides /\(finalField)") }
            reply.message = ChatMessage(role: .assistant, content: text)
            return reply
        }
        throw invalid("has neither /\(toolField) nor /\(finalField)")
    }

    private static func object(properties: [String: JSONValue]) -> JSONValue {
        [
            "type": "object", "properties": .object(properties),
            "required": .array(properties.keys.sorted().map(JSONValue.string)), "additionalProperties": false,
        ]
    }
}
