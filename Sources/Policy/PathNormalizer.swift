import AirlockCore

/// Puts a path argument into the sandbox's view before any path rule compares it.
///
/// Relative paths are taken from the workspace (the tool's working directory in the sandbox).
/// Rejected outright, because a lexical check cannot make them safe: any `..` component (with a
/// symlink inside the workspace, `link/../x` is not `x`), NUL and other control characters,
/// backslashes, percent-encoded bytes (`%2e%2e`), `~` home shortcuts, and over-long paths.
///
/// Paths are split and compared as bytes, as the kernel reads them, never as Swift
/// `Character`s: a `/` followed by a combining mark is one grapheme cluster, so a split on
/// characters would not see the `..` in `../\u{301}etc` and a prefix test on characters would
/// not see `/data/\u{301}x` inside `/data`.
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
        if case .path(let p) = Self.normalizeAbsolute(workspace, maxLength: maxLength), workspace.utf8.first == 0x2F {
            self.workspace = p
        } else {
            self.workspace = "/"
        }
    }

    /// Normalises `raw` into the sandbox's absolute view, or says why it is refused.
    public func normalize(_ raw: String) -> Outcome {
        // Checked before joining: "" relative to the workspace would otherwise mean the workspace.
        if raw.isEmpty { return .rejected("the path is empty") }
        if raw.utf8.first == 0x2F { return Self.normalizeAbsolute(raw, maxLength: maxLength) }
        if raw.utf8.first == 0x7E { return .rejected("'~' home shortcuts are not paths in the sandbox") }
        return Self.normalizeAbsolute(workspace + "/" + raw, maxLength: maxLength)
    }

    private static func isHex(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x46).contains(b) || (0x61...0x66).contains(b)
    }

    static func normalizeAbsolute(_ raw: String, maxLength: Int) -> Outcome {
        let bytes = Array(raw.utf8)
        guard !bytes.isEmpty else { return .rejected("the path is empty") }
        guard bytes.count <= maxLength else { return .rejected("the path is longer than \(maxLength) bytes") }
        var components: [ArraySlice<UInt8>] = []
        for (i, b) in bytes.enumerated() {
            if b == 0 { return .rejected("the path contains a NUL byte") }
            if b < 0x20 || b == 0x7F { return .rejected("the path contains a control character") }
            if b == 0x5C { return .rejected("the path contains a backslash") }
            if b == 0x25, i + 2 < bytes.count, isHex(bytes[i + 1]), isHex(bytes[i + 2]) {
                return .rejected("the path contains a percent-encoded byte")
            }
        }
        for component in bytes.split(separator: 0x2F, omittingEmptySubsequences: true) {
            if component.elementsEqual([0x2E]) { continue }
            if component.elementsEqual([0x2E, 0x2E]) { return .rejected("the path contains a '..' component") }
            components.append(component)
        }
        // Valid UTF-8 in, valid UTF-8 out: only whole ASCII `/` bytes were taken out.
        return .path(String(decoding: [0x2F] + Array(components.joined(separator: [0x2F])), as: UTF8.self))
    }

    /// Whether normalised `path` is `root` or inside it.
    static func isWithin(_ path: String, root: String) -> Bool {
        if root.utf8.elementsEqual("/".utf8) { return true }
        guard path.utf8.starts(with: root.utf8) else { return false }
        if path.utf8.count == root.utf8.count { return true }
        return path.utf8.dropFirst(root.utf8.count).first == 0x2F
    }
}
