extension PathNormalizer {
    /// A regular expression (matched against the whole string) that every raw path this
    /// normaliser places within one of `roots` matches: relative paths when the workspace lies
    /// within a root, and absolute paths spelling a root's components with any run of `/` and
    /// `./` between them. It accepts more than the policy does (`..`, control characters and
    /// encoded bytes are refused only by normalisation), never less.
    ///
    /// Uses only literals, `.`, character classes, non-capturing groups, alternation and `*`/`?`,
    /// so that a grammar-constrained sampler (llama.cpp's JSON Schema conversion) reads it the
    /// same way as ICU.
    /// - Parameter roots: normalised absolute roots (as `path_within` holds them).
    /// - Returns: the pattern, or `nil` when a root lies strictly inside the workspace (relative
    ///   paths would then need a pattern of their own) or `roots` is empty.
    public func rawPathPattern(within roots: [String]) -> String? {
        guard !roots.isEmpty else { return nil }
        var alternatives: [String] = []
        if roots.contains(where: { Self.isWithin(workspace, root: $0) }) {
            alternatives.append("[^/~].*")
        } else if roots.contains(where: { Self.isWithin($0, root: workspace) }) {
            return nil
        }
        let separator = "/(?:\\.?/)*"
        for root in roots {
            let components = root.split(separator: "/").map { Self.escapeLiteral(String($0)) }
            if components.isEmpty {
                alternatives.append("/.*")
            } else {
                alternatives.append(separator + components.joined(separator: separator) + "(?:/.*)?")
            }
        }
        return "(?:" + alternatives.joined(separator: "|") + ")"
    }

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
