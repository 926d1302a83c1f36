extension JSONPointer {
    /// Splits an RFC 6901 pointer into its unescaped reference tokens (`""` → `[]`, `/a/b` → `["a", "b"]`).
    ///
    /// Callers that resolve the same pointer many times (compiled policies) split it once.
    /// - Returns: the tokens, or `nil` for a non-empty pointer that does not start with `/`.
    public static func tokens(_ pointer: String) -> [String]? {
        guard !pointer.isEmpty else { return [] }
        guard pointer.hasPrefix("/") else { return nil }
        return pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            unescape(String($0))
        }
    }
}

extension JSONValue {
    /// Resolves already-split pointer tokens (see ``JSONPointer/tokens(_:)``).
    ///
    /// - Returns: the value they lead to, or `nil` when any step is missing or malformed.
    public func value(atTokens tokens: [String]) -> JSONValue? {
        var current = self
        for token in tokens {
            switch current {
            case .object(let members):
                guard let next = members[token] else { return nil }
                current = next
            case .array(let items):
                guard let index = Int(token), String(index) == token, index >= 0, index < items.count else {
                    return nil
                }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }
}
