import AirlockCore
import Model
import Testing

/// A call id is the model's text that the prompt and the trace name a call by: kept only when it
/// is a plain token.
@Suite("Tool call ids")
struct ToolCallIDTests {
    @Test func anIdWithControlsOrOddBytesIsDropped() throws {
        let reply: JSONValue = [
            "choices": [
                [
                    "message": [
                        "role": "assistant",
                        "tool_calls": [
                            ["id": "call_AbC-1.2:3", "function": ["name": "t", "arguments": "{}"]],
                            ["id": "call\u{1B}[8m\rx", "function": ["name": "t", "arguments": "{}"]],
                            ["id": "a\u{202E}b", "function": ["name": "t", "arguments": "{}"]],
                            ["id": .string(String(repeating: "a", count: 129)), "function": ["name": "t"]],
                            ["id": "", "function": ["name": "t"]],
                        ],
                    ]
                ]
            ]
        ]
        let calls = try ChatResponse(json: reply).message.toolCalls
        #expect(calls.map(\.id) == ["call_AbC-1.2:3", nil, nil, nil, nil])
        #expect(ModelToolCall.isValidID(String(repeating: "a", count: 128)))
        #expect(!ModelToolCall.isValidID("café"))
        // A scripted model's ids go through the same rule.
        #expect(ModelToolCall(id: "x y", name: "t", arguments: "{}").id == nil)
    }
}
