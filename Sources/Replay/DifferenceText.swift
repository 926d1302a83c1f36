import AirlockCore

/// Two values that differ, written for a person: whole when both are short, otherwise the region
/// where they part, so that two long values never print as the same cut-off prefix.
///
/// A long pair is shown from ``defaultContext`` characters before the first character where the
/// two differ to as many after it, on both sides, with that character's offset and each side's
/// length: `@5000 of 10000: "…abcX…"` against `@5000 of 10000: "…abcY…"`. Strings are compared
/// as text (offsets count characters of the string itself) and shown JSON-quoted, so a line
/// break in a value stays on one line; other values are compared as their canonical JSON.
/// `trace diff`, `replay` divergences and `replay --reexecute` all write differences this way.
/// What this returns is still untrusted text: the CLI escapes it for the terminal as it prints.
public enum DifferenceText {
    /// Values up to this many characters (both sides) are shown whole.
    public static let defaultWholeLimit = 200
    /// Characters shown on each side of the first difference in a long pair.
    public static let defaultContext = 60

    /// The two sides of a difference, one line each.
    /// - Parameters:
    ///   - a: one side, `nil` when it has nothing there.
    ///   - b: the other side, `nil` when it has nothing there.
    ///   - full: show both values whole however long (default false).
    ///   - wholeLimit: the longest pair shown whole (default ``defaultWholeLimit``).
    ///   - context: characters around the first difference (default ``defaultContext``).
    /// - Returns: A's line and B's line, which differ whenever the values do.
    public static func pair(
        _ a: JSONValue?, _ b: JSONValue?, full: Bool = false, wholeLimit: Int = defaultWholeLimit,
        context: Int = defaultContext
    ) -> (a: String, b: String) {
        let quoted: Bool
        let left: String
        let right: String
        switch (a, b) {
        case (.string(let x)?, .string(let y)?):
            (quoted, left, right) = (true, x, y)
        case (let x?, let y?) where x.stringValue == nil && y.stringValue == nil:
            (quoted, left, right) = (false, x.canonicalString, y.canonicalString)
        default:
            // Absent on one side, or a string against another kind: nothing to line up.
            return (alone(a, full: full, limit: wholeLimit), alone(b, full: full, limit: wholeLimit))
        }
        if full || (left.count <= wholeLimit && right.count <= wholeLimit) {
            return (show(left, quoted: quoted), show(right, quoted: quoted))
        }
        // The window always holds the first differing character of at least one side.
        let context = max(1, context)
        let offset = zip(left, right).prefix { $0 == $1 }.count
        let start = max(0, offset - context)
        func window(_ text: String) -> String {
            let length = text.count
            let end = min(length, offset + context)
            let from = text.index(text.startIndex, offsetBy: start)
            let to = text.index(from, offsetBy: end - start)
            return "@\(offset) of \(length): "
                + show(String(text[from..<to]), quoted: quoted, cutBefore: start > 0, cutAfter: end < length)
        }
        return (window(left), window(right))
    }

    /// The two sides of a difference between two texts (a tool's output then and now).
    /// - Parameters:
    ///   - a: one text.
    ///   - b: the other.
    ///   - full: show both whole however long (default false).
    /// - Returns: A's line and B's line.
    public static func pair(text a: String, _ b: String, full: Bool = false) -> (a: String, b: String) {
        pair(.string(a), .string(b), full: full)
    }

    /// A value with nothing to compare it with: whole when short (or `full`), otherwise its
    /// first `limit` characters and its length.
    /// - Parameters:
    ///   - value: the value, `nil` when absent.
    ///   - full: show it whole however long (default false).
    ///   - limit: the longest value shown whole (default ``defaultWholeLimit``).
    /// - Returns: one line; `(absent)` for `nil`.
    public static func alone(_ value: JSONValue?, full: Bool = false, limit: Int = defaultWholeLimit) -> String {
        guard let value else { return "(absent)" }
        let (text, quoted) = value.stringValue.map { ($0, true) } ?? (value.canonicalString, false)
        let length = text.count
        if full || length <= limit { return show(text, quoted: quoted) }
        return show(String(text.prefix(limit)), quoted: quoted, cutBefore: false, cutAfter: true)
            + " (\(length) characters)"
    }

    /// `text` as shown: JSON-quoted when it is a string's content, with `…` where it was cut.
    static func show(_ text: String, quoted: Bool, cutBefore: Bool = false, cutAfter: Bool = false) -> String {
        let before = cutBefore ? "…" : ""
        let after = cutAfter ? "…" : ""
        guard quoted else { return before + text + after }
        let json = JSONValue.string(text).canonicalString
        return "\"" + before + json.dropFirst().dropLast() + after + "\""
    }
}
