extension PathNormalizer {
    /// A regular expression (matched against the whole string) that every raw path this
    /// normaliser places within one of `roots` matches: relative paths when the workspace lies
    /// within a root, and absolute paths spelling a root's components with any run of `/` and
    /// `./` between them. It accepts more than the policy does (`..` and encoded bytes are refused
    /// only by normalisation), never less.
    ///
    /// Written for a grammar-constrained sampler that applies patterns to the JSON text of the
    /// string (llama.cpp's JSON Schema conversion): "any character" is
    /// ``anyPathCharacter`` — not `"`, `\` or a control character (normalisation refuses the last
    /// two; a raw `"` would end the JSON string), or the escape `\"` for a quote — and only
    /// literals, classes, non-capturing groups, alternation and `*`/`?` are used, which ICU and
    /// the grammar read alike.
    /// - Parameter roots: normalised absolute roots (as `path_within` holds them).
    /// - Returns: the pattern, or `nil` when a root lies strictly inside the workspace (relative
    ///   paths would then need a pattern of their own) or `roots` is empty.
    public func rawPathPattern(within roots: [String]) -> String? {
        guard !roots.isEmpty else { return nil }
        var alternatives: [String] = []
        if roots.contains(where: { Self.isWithin(workspace, root: $0) }) {
            alternatives.append(#"(?:[^/~"\\\x00-\x1F\x7F]|\\")"# + Self.anyPathCharacter + "*")
        } else if roots.contains(where: { Self.isWithin($0, root: workspace) }) {
            return nil
        }
        let separator = "/(?:\\.?/)*"
        for root in roots {
            let components = Array(root.utf8).split(separator: 0x2F).map {
                Self.escapeLiteral(String(decoding: $0, as: UTF8.self))
            }
            if components.isEmpty {
                alternatives.append("/" + Self.anyPathCharacter + "*")
            } else {
                alternatives.append(
                    separator + components.joined(separator: separator) + "(?:/" + Self.anyPathCharacter + "*)?")
            }
        }
        return "(?:" + alternatives.joined(separator: "|") + ")"
    }

    /// One character of a path as it appears in JSON text: anything but `"`, `\\` and control
    /// characters, or an escaped quote.
    public static let anyPathCharacter = #"(?:[^"\\\x00-\x1F\x7F]|\\")"#

    /// `text` with every regular-expression metacharacter escaped (the escapes ICU and llama.cpp's
    /// pattern conversion both read as the literal character).
    static func escapeLiteral(_ text: String) -> String {
        var result = ""
        for character in text {
            if "\\^$.[](){}|*+?".contains(character) { result += "\\" }
            result.append(character)
        }
        return result
    }
}
