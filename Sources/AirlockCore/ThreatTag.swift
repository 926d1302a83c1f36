/// The threat vocabulary of docs/threats.md: every rule, guard, manifest and decision carries tags from
/// it, and a policy or manifest naming any other tag does not load.
public enum ThreatTag {
    /// Every valid tag: `maestro:L1`…`maestro:L7`, `asi:01`…`asi:10`, `nhi:01`…`nhi:10`.
    public static let vocabulary: Set<String> = {
        var tags: Set<String> = []
        for layer in 1...7 { tags.insert("maestro:L\(layer)") }
        for n in 1...10 {
            let two = n < 10 ? "0\(n)" : "\(n)"
            tags.insert("asi:\(two)")
            tags.insert("nhi:\(two)")
        }
        return tags
    }()

    /// Whether `tag` is in the vocabulary (exact spelling).
    public static func isValid(_ tag: String) -> Bool { vocabulary.contains(tag) }
}
