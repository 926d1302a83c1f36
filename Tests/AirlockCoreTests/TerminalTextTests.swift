import AirlockCore
import Testing

@Suite("TerminalText")
struct TerminalTextTests {
    @Test func controlsAndBidiOverridesAreShownNotObeyed() {
        #expect(TerminalText.escape("call\u{1B}[8m\rok") == #"call\u001B[8m\u000Dok"#)
        #expect(TerminalText.escape("a\u{9B}b\u{7F}") == #"a\u009Bb\u007F"#)
        #expect(TerminalText.escape("x\u{202E}y\u{2066}z\u{200F}") == #"x\u202Ey\u2066z\u200F"#)
        #expect(TerminalText.escape("line\nnext\ttab") == #"line\u000Anext\u0009tab"#)
        #expect(TerminalText.escape("line\nnext\ttab", keepsLineBreaks: true) == "line\nnext\ttab")
        #expect("\(terminal: "id\u{07}")" == #"id\u0007"#)
        #expect(TerminalText("é ü 日本 \\n").description == "é ü 日本 \\n")
    }

    @Test func escapedJSONStaysTheSameJSON() throws {
        let value: JSONValue = ["q": .string("a\u{202E}b\u{85}c\u{1B}")]
        let escaped = TerminalText.escape(value.prettyString, keepsLineBreaks: true)
        #expect(!escaped.unicodeScalars.contains { TerminalText.isUnsafe($0) && $0 != "\n" })
        #expect(try JSONParser().parse(escaped) == value)
    }
}
