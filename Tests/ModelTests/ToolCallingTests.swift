import AirlockCore
import Foundation
import Model
import Testing

/// Tool calling modes: name mapping, the request bodies of both modes, constrained reply parsing,
/// and how the mode is chosen.
@Suite("Tool calling modes")
struct ToolCallingTests {
    static let search: JSONValue = [
        "type": "function",
        "function": [
            "name": "logs.search", "description": "Search the logs.",
            "parameters": [
                "type": "object", "required": ["pattern"], "additionalProperties": false,
                "properties": ["pattern": ["type": "string"], "max_matches": ["type": "integer", "minimum": 1]],
            ],
        ],
    ]

    @Test func nameMappingIsReversibleAndHandlesCollisions() {
        let long = String(repeating: "a.", count: 40)
        let names = ["logs.search", "logs_search", "workspace.note", "ok-name", "logs search", long, "ünï.code"]
        let mapping = ToolNameMapping(names: names)
        let wire = names.map(mapping.wireName(for:))
        #expect(wire[0] == "logs_search-2")
        #expect(wire[1] == "logs_search")
        #expect(wire[2] == "workspace_note")
        #expect(wire[3] == "ok-name")
        #expect(wire[4] == "logs_search-3")
        #expect(Set(wire).count == names.count)
        for name in wire {
            #expect(
                name.utf8.count <= 64 && name.range(of: "^[A-Za-z0-9_-]{1,64}$", options: .regularExpression) != nil)
        }
        for name in names { #expect(mapping.toolName(for: mapping.wireName(for: name)) == name) }
        #expect(mapping.toolName(for: "invented") == "invented")
        #expect(ToolNameMapping(names: names) == mapping)
    }

    @Test func nativeRequestBodyMapsNames() throws {
        let request = ChatRequest(
            messages: [
                ChatMessage(role: .user, content: "find errors"),
                ChatMessage(
                    role: .assistant, content: nil,
                    toolCalls: [ModelToolCall(id: "c1", name: "logs.search", arguments: #"{"pattern":"E"}"#)]),
                ChatMessage(role: .tool, content: "[]", toolCallID: "c1"),
            ], tools: [Self.search], temperature: 0.5, maxTokens: 16, seed: 3)
        let expected = try JSONParser().parse(
            Array(
                #"""
                {"max_tokens":16,"messages":[{"content":"find errors","role":"user"},
                 {"content":null,"role":"assistant","tool_calls":[{"function":{"arguments":"{\"pattern\":\"E\"}","name":"logs_search"},"id":"c1","type":"function"}]},
                 {"content":"[]","role":"tool","tool_call_id":"c1"}],
                 "model":"local","seed":3,"stream":false,"temperature":0.5,"tool_choice":"auto",
                 "tools":[{"function":{"description":"Search the logs.","name":"logs_search","parameters":{"additionalProperties":false,"properties":{"max_matches":{"minimum":1,"type":"integer"},"pattern":{"type":"string"}},"required":["pattern"],"type":"object"}},"type":"function"}]}
                """#.utf8))
        #expect(request.json == expected)
        let reply = ChatResponse(
            message: ChatMessage(
                role: .assistant, content: nil,
                toolCalls: [ModelToolCall(id: "x", name: "logs_search", arguments: "{}")]))
        #expect(try request.interpret(reply).message.toolCalls.first?.name == "logs.search")
    }

    @Test func constrainedRequestBody() throws {
        let request = ChatRequest(
            messages: [
                ChatMessage(role: .system, content: "Be careful."), ChatMessage(role: .user, content: "find errors"),
                ChatMessage(
                    role: .assistant, content: nil,
                    toolCalls: [ModelToolCall(id: "c1", name: "logs.search", arguments: #"{"pattern":"E"}"#)]),
                ChatMessage(role: .tool, content: "[]", toolCallID: "c1"),
            ], tools: [Self.search], maxTokens: 16, toolCalling: .constrained)
        let prompt =
            "Be careful.\n\nTools:\n- logs.search(pattern: string, max_matches?: integer 1..): Search the logs.\n"
            + #"Answer with one JSON object: {"tool": NAME, "tool_input": {ARGUMENTS}} to call a tool, or {"final": ANSWER} when you are done."#
        let arguments: JSONValue = [
            "type": "object", "required": ["pattern"], "additionalProperties": false,
            "properties": ["pattern": ["type": "string"], "max_matches": ["type": "integer", "minimum": 1]],
        ]
        let expected: JSONValue = [
            "model": "local", "stream": false, "max_tokens": 16,
            "messages": [
                ["role": "system", "content": .string(prompt)], ["role": "user", "content": "find errors"],
                ["role": "assistant", "content": #"{"tool":"logs.search","tool_input":{"pattern":"E"}}"#],
                ["role": "user", "content": "Result of logs.search:\n[]"],
            ],
            "response_format": [
                "type": "json_schema",
                "json_schema": [
                    "name": "airlock_reply", "strict": true,
                    "schema": [
                        "oneOf": [
                            [
                                "type": "object", "additionalProperties": false, "required": ["tool", "tool_input"],
                                "properties": ["tool": ["const": "logs.search"], "tool_input": arguments],
                            ],
                            [
                                "type": "object", "additionalProperties": false, "required": ["final"],
                                "properties": ["final": ["type": "string", "maxLength": 16]],
                            ],
                        ]
                    ],
                ],
            ],
        ]
        #expect(request.json == expected)
        #expect(request.json["tools"] == nil)
    }

    @Test func constrainedWithoutToolsStillConstrainsTheAnswer() throws {
        let request = ChatRequest(
            messages: [ChatMessage(role: .user, content: "summarise")], tools: [], toolCalling: .constrained)
        let body = request.json
        #expect(
            body["messages"]?.arrayValue?.first
                == [
                    "role": "system",
                    "content": #"No tools are available. Answer with one JSON object: {"final": ANSWER}."#,
                ])
        let branches = try #require(body["response_format"]?["json_schema"]?["schema"]?["oneOf"]?.arrayValue)
        #expect(branches.count == 1)
        #expect(branches.first?["required"] == ["final"])
        let answer = try request.interpret(reply(#"{"final": "ok"}"#))
        #expect(answer.message.content == "ok")
    }

    func reply(_ content: String, finish: String = "stop") -> ChatResponse {
        ChatResponse(message: ChatMessage(role: .assistant, content: content), finishReason: finish)
    }

    @Test func constrainedRepliesBecomeCallsOrAnswers() throws {
        let call = try ConstrainedToolCalling.parse(
            reply(#" {"tool_input": {"pattern": "ERROR"}, "tool": "logs.search"}"#))
        #expect(call.message.content == nil)
        #expect(
            call.message.toolCalls == [ModelToolCall(id: nil, name: "logs.search", arguments: #"{"pattern":"ERROR"}"#)])
        #expect(call.finishReason == "tool_calls")
        let answer = try ConstrainedToolCalling.parse(reply(#"{"final": "Two services fail."}"#))
        #expect(answer.message.content == "Two services fail.")
        #expect(answer.message.toolCalls.isEmpty)
        let bare = try ConstrainedToolCalling.parse(reply(#"{"tool": "workspace.read"}"#))
        #expect(bare.message.toolCalls.first?.arguments == "{}")
        // A reply cut at the token limit keeps saying so, as a call or as an answer (the agent
        // ends the run on it unless the workflow accepts cut replies).
        let cutCall = try ConstrainedToolCalling.parse(
            reply(#"{"tool": "logs.search", "tool_input": {}}"#, finish: "length"))
        #expect(cutCall.finishReason == "length")
        let cutAnswer = try ConstrainedToolCalling.parse(reply(#"{"final": "Two serv"}"#, finish: "length"))
        #expect(cutAnswer.finishReason == "length")
    }

    @Test func malformedConstrainedRepliesAreClearErrors() {
        let cases: [(String, String, String)] = [
            ("Sure! I will search the logs.", "stop", "is not one JSON object"),
            (#"{"tool": "logs.search", "tool_input": {"pattern": "ERR"#, "length", "token limit"),
            (#"["logs.search"]"#, "stop", "is not a JSON object"),
            (#"{"tool": 3, "tool_input": {}}"#, "stop", "/tool that is not a string"),
            (#"{"tool": "x", "tool_input": "pattern=E"}"#, "stop", "/tool_input that is not an object"),
            (#"{"final": "done", "extra": 1}"#, "stop", "fields besides /final"),
            (#"{"answer": "done"}"#, "stop", "neither /tool nor /final"),
        ]
        for (content, finish, why) in cases {
            let error = #expect(throws: ModelError.self) {
                try ConstrainedToolCalling.parse(reply(content, finish: finish))
            }
            #expect(error?.code == .invalidToolReply)
            #expect(error?.message.contains(why) == true, "\(content): \(error?.message ?? "")")
            #expect(error?.message.contains(String(content.prefix(10)).debugDescription.dropLast()) == true)
        }
    }

    @Test func modeResolution() throws {
        #expect(try ToolCallingMode.resolve(requested: nil, site: nil, defaultMode: .constrained) == .constrained)
        #expect(try ToolCallingMode.resolve(requested: "auto", site: nil, defaultMode: .native) == .native)
        #expect(try ToolCallingMode.resolve(requested: "auto", site: .native, defaultMode: .constrained) == .native)
        #expect(
            try ToolCallingMode.resolve(requested: "constrained", site: .native, defaultMode: .native) == .constrained)
        let bad = #expect(throws: ModelError.self) {
            try ToolCallingMode.resolve(requested: "grammar", site: nil, defaultMode: .native)
        }
        #expect(bad?.code == .invalidSetting)
        #expect(bad?.message.contains("auto, native, constrained") == true)
    }

    @Test func theFinalAnswerIsBoundedByTheTokenLimit() throws {
        let request = ChatRequest(
            messages: [ChatMessage(role: .user, content: "go")], maxTokens: 100, toolCalling: .constrained)
        let branches = try #require(request.json["response_format"]?["json_schema"]?["schema"]?["oneOf"]?.arrayValue)
        let final = try #require(branches.last?["properties"]?[ConstrainedToolCalling.finalField])
        #expect(final["maxLength"] == 84)
        let unbounded = ChatRequest(messages: [ChatMessage(role: .user, content: "go")], toolCalling: .constrained)
        #expect(
            unbounded.json["response_format"]?["json_schema"]?["schema"]?["oneOf"]?.arrayValue?.last?["properties"]?[
                ConstrainedToolCalling.finalField]?["maxLength"] == nil)
    }
}
