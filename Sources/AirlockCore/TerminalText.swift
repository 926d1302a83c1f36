/// Text that came from a model, a tool or a trace, made safe to print on a terminal.
///
/// A terminal obeys what it is sent: `ESC[8m` hides what follows, `ESC]0;…` retitles the
/// window, `\r` or backspace overwrite what was shown, and a bidi override reorders it. Any of
/// them in a call id or an argument can make an approval prompt show another call than the one
/// being approved. So every C0 control (U+0000–U+001F), DEL, every C1 control (U+0080–U+009F),
/// the bidi embeddings, overrides, isolates and marks, and the line and paragraph separators
/// are printed as visible escapes in JSON's form (`\u001B`, `\u202E`: every one of them is in
/// the BMP), so that pretty JSON passed through stays valid JSON with the same values (its own
/// line breaks are structure, and its strings hold no raw C0 control). Everything else, backslashes
/// included, is printed as it is: JSON arguments stay readable, and a model that writes the
/// text `\u001B` only shows that text.
public struct TerminalText: Sendable, Hashable, CustomStringConvertible {
    /// The text as it came.
    public let raw: String
    /// Whether `\n` and `\t` are kept as they are (multi-line output such as a tool's stdout).
    public let keepsLineBreaks: Bool

    /// Wraps `raw` for printing.
    /// - Parameters:
    ///   - raw: the untrusted text.
    ///   - keepsLineBreaks: keep `\n` and `\t` (default `false`: one line, everything escaped).
    public init(_ raw: String, keepsLineBreaks: Bool = false) {
        self.raw = raw
        self.keepsLineBreaks = keepsLineBreaks
    }

    /// The escaped text, safe to write to a terminal.
    public var description: String { Self.escape(raw, keepsLineBreaks: keepsLineBreaks) }

    /// Whether a scalar must not reach a terminal as it is.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        // Bidi: ALM, LRM, RLM, embeddings and overrides, isolates; line and paragraph separators.
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029: true
        default: false
        }
    }

    /// `text` with every unsafe scalar (see ``isUnsafe(_:)``) escaped.
    /// - Parameters:
    ///   - text: the untrusted text.
    ///   - keepsLineBreaks: keep `\n` and `\t` as they are (default `false`).
    /// - Returns: text that a terminal shows as it reads.
    public static func escape(_ text: String, keepsLineBreaks: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if keepsLineBreaks, scalar == "\n" || scalar == "\t" {
                out.append(scalar)
            } else if isUnsafe(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}

extension String.StringInterpolation {
    /// Interpolates untrusted text escaped for a terminal: `"\(terminal: call.id)"`.
    public mutating func appendInterpolation(terminal text: String) {
        appendLiteral(TerminalText.escape(text))
    }
}
