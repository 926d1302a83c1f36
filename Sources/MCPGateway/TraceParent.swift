/// The W3C Trace Context `traceparent` an MCP request may carry in `_meta`
/// (`00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`), checked before it is recorded so
/// that the trace holds either a well-formed header or the fact that one was refused.
enum TraceParent {
    /// Whether `text` is a well-formed `traceparent`: version `00`, lowercase hex, ids not all zero.
    static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == "00" else { return false }
        let lengths = [2, 32, 16, 2]
        for (part, length) in zip(parts, lengths) {
            guard part.utf8.count == length,
                part.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            else { return false }
        }
        return parts[1] != String(repeating: "0", count: 32) && parts[2] != String(repeating: "0", count: 16)
    }
}
