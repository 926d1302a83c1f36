import AirlockCore

/// Every line the CLI prints on standard output goes through here, not through `Swift.print`:
/// what it prints quotes manifests, policies, tool output, model text and traces, so each is
/// escaped for the terminal (``TerminalText``, line breaks kept; JSON output stays JSON). Only
/// `sandbox run` passes a program's own output through as it is, with `FileHandle`.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    let text = items.map { "\($0)" }.joined(separator: separator)
    Swift.print(TerminalText.escape(text, keepsLineBreaks: true), terminator: terminator)
}
