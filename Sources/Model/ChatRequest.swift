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
    /// How the tools are offered and calls come back. Default ``ToolCallingMode/native``.
    public var toolCalling: ToolCallingMode
    /// The longest this request may take, in seconds, when tighter than the client's own bound:
    /// the time the run has left of its wall budget. Not sent to the server.
    public var timeoutSeconds: Double?
    /// Whether the reply is streamed as server-sent events (`stream: true`, usage in the last
    /// event), so progress can be shown while the model generates. Not part of what is recorded:
    /// a streamed reply is assembled into the same ``ChatResponse`` as a whole one. Default false.
    public var stream = false
    /// Whether the server is asked to keep this conversation's prompt cached for the next request
    /// (llama-server's `cache_prompt: true`), so a later step with the same beginning processes
    /// only what was added. Sent only when true (default false): other servers may not know it.
    public var cachePrompt = false

    /// Creates a request.
    public init(
        messages: [ChatMessage], tools: [JSONValue] = [], model: String = "local", temperature: Double? = nil,
        maxTokens: Int? = nil, seed: Int? = nil, toolCalling: ToolCallingMode = .native, timeoutSeconds: Double? = nil
    ) {
        self.timeoutSeconds = timeoutSeconds
        self.messages = messages
        self.tools = tools
        self.model = model
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.seed = seed
        self.toolCalling = toolCalling
    }

    /// The wire names of this request's tools (native mode).
    public var nameMapping: ToolNameMapping {
        ToolNameMapping(names: tools.compactMap { $0["function"]?["name"]?.stringValue })
    }

    /// The request body.
    ///
    /// Native: `{"model", "messages", "tools", "tool_choice": "auto", …}` with tool names (in
    /// `tools` and in earlier calls) mapped by ``nameMapping``. Constrained: the messages of
    /// ``ConstrainedToolCalling/messages(_:tools:)`` and `response_format`, no `tools`.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["model": .string(model), "stream": .bool(stream)]
        if stream { object["stream_options"] = ["include_usage": true] }
        switch toolCalling {
        case .native:
            let mapping = nameMapping
            object["messages"] = .array(
                messages.map { message in
                    var wire = message
                    for index in wire.toolCalls.indices {
                        wire.toolCalls[index].name = mapping.wireName(for: wire.toolCalls[index].name)
                    }
                    return wire.json
                })
            if !tools.isEmpty {
                object["tools"] = .array(tools.map { Self.renamed($0, mapping) })
                object["tool_choice"] = "auto"
            }
        case .constrained:
            object["messages"] = .array(ConstrainedToolCalling.messages(messages, tools: tools).map(\.json))
            // Also with no tools (every one excluded by the policy): the reply is then a final answer.
            object["response_format"] = ConstrainedToolCalling.responseFormat(
                tools: tools, finalMaxLength: maxTokens.map(ConstrainedToolCalling.finalMaxLength(maxTokens:)))
        }
        if let temperature { object["temperature"] = .number(temperature) }
        if let maxTokens { object["max_tokens"] = .integer(Int64(maxTokens)) }
        if let seed { object["seed"] = .integer(Int64(seed)) }
        if cachePrompt { object["cache_prompt"] = true }
        return .object(object)
    }

    /// The reply in the agent's shape: native calls' names mapped back, or the constrained object
    /// turned into a call or a final answer.
    /// - Throws: ``ModelError`` `invalid-tool-reply` for a constrained reply that is not one of
    ///   the allowed objects.
    public func interpret(_ response: ChatResponse) throws(ModelError) -> ChatResponse {
        switch toolCalling {
        case .native:
            let mapping = nameMapping
            var result = response
            for index in result.message.toolCalls.indices {
                result.message.toolCalls[index].name = mapping.toolName(for: result.message.toolCalls[index].name)
            }
            return result
        case .constrained:
            return try ConstrainedToolCalling.parse(response)
        }
    }

    private static func renamed(_ tool: JSONValue, _ mapping: ToolNameMapping) -> JSONValue {
        guard case .object(var members) = tool, case .object(var function)? = members["function"],
            let name = function["name"]?.stringValue
        else { return tool }
        function["name"] = .string(mapping.wireName(for: name))
        members["function"] = .object(function)
        return .object(members)
    }
}
