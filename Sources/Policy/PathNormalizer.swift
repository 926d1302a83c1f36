import AirlockCore

/// Puts a path argument into the sandbox's view before any path rule compares it.
///
/// Relative paths are taken from the workspace (the tool's working directory in the sandbox).
/// Rejected outright, because a lexical check cannot make them safe: any `..` component (with a
/// symlink inside the workspace, `link/../x` is not `x`), NUL and other control characters,
/// backslashes, percent-encoded bytes (`%2e%2e`), `~` home shortcuts, and over-long paths.
public struct PathNormalizer: Sendable, Hashable {
    /// The normalised absolute path, or why the path was refused.
    public enum Outcome: Sendable, Hashable {
        /// The absolute, normalised path (no `.`, no `..`, no repeated or trailing `/`).
        case path(String)
        /// Why the path cannot be judged safely.
        case rejected(String)
    }

    /// The directory relative paths start from, absolute. Default `/workspace`.
    public let workspace: String
    /// The longest path accepted, in bytes. Default 4096 (Linux `PATH_MAX`).
    public let maxLength: Int

    /// Creates a normaliser.
    /// - Parameters:
    ///   - workspace: the sandbox path relative paths start from (default `/workspace`).
    ///   - maxLength: the longest path accepted, in bytes (default 4096).
    public init(workspace: String = "/workspace", maxLength: Int = 4096) {
        self.maxLength = maxLength
        // A workspace that itself fails normalisation leaves relative paths unresolvable: "/" keeps
        // the comparison strict rather than guessing.
        if case .path(let p) = Self.normalizeAbsolute(workspace, maxLength: maxLength), workspace.hasPrefix("/") {
            self.workspace = p
        } else {
            self.workspace = "/"
        }
    }

    /// Normalises `raw` into the sandbox's absolute view, or says why it is refused.
    public func normalize(_ raw: String) -> Outcome {
        // Checked before joining: "" relative to the workspace would otherwise mean the workspace.
        if raw.isEmpty { return .rejected("the path is empty") }
        if raw.hasPrefix("/") { return Self.normalizeAbsolute(raw, maxLength: maxLength) }
        if raw.hasPrefix("~") { return .rejected("'~' home shortcuts are not paths in the sandbox") }
        return Self.normalizeAbsolute(workspace + "/" + raw, maxLength: maxLength)
    }

    private static func isHex(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x46).contains(b) || (0x61...0x66).contains(b)
    }

    static func normalizeAbsolute(_ raw: String, maxLength: Int) -> Outcome {
        let bytes = Array(raw.utf8)
        guard !bytes.isEmpty else { return .rejected("the path is empty") }
        guard bytes.count <= maxLength else { return .rejected("the path is longer than \(maxLength) bytes") }
        var components: [Substring] = []
        for (i, b) in bytes.enumerated() {
            if b == 0 { return .rejected("the path contains a NUL byte") }
            if b < 0x20 || b == 0x7F { return .rejected("the path contains a control character") }
            if b == 0x5C { return .rejected("the path contains a backslash") }
            if b == 0x25, i + 2 < bytes.count, isHex(bytes[i + 1]), isHex(bytes[i + 2]) {
                return .rejected("the path contains a percent-encoded byte")
            }
        }
        for component in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." { return .rejected("the path contains a '..' component") }
            components.append(component)
        }
        return .path("/" + components.joined(separator: "/"))
    }

    /// Whether normalised `path` is `root` or inside it.
    static func isWithin(_ path: String, root: String) -> Bool {
        if root == "/" { return true }
        guard path.hasPrefix(root) else { return false }
        if path.utf8.count == root.utf8.count { return true }
        return path.utf8.dropFirst(root.utf8.count).first == 0x2F
    }
}
