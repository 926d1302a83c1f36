/// One entry of a directory tree that a step created, changed or removed: what a tool call did
/// to its run's workspace, as `tool.executed` records it (`workspace_changes`).
///
/// Paths are relative to the tree's root and never followed through links (``FileTree``).
public struct FileChange: Sendable, Hashable, Codable {
    /// What happened to the entry.
    public enum Change: String, Sendable, Hashable, Codable {
        /// It was not there before the step.
        case created
        /// It was there, and its size, times, inode, permissions or kind differ.
        case modified
        /// It was there before the step and is gone.
        case removed
    }

    /// The path relative to the root (``FileTree/display(_:)``).
    public var path: String
    /// What it is (after the step; before it for a removed entry).
    public var kind: FileTree.Kind
    /// What happened.
    public var change: Change
    /// Its size in bytes: a file's after the step, a removed file's before it.
    public var bytes: Int64?
    /// The SHA-256 of a created or modified file's bytes, unless ``omitted`` says why not.
    public var sha256: String?
    /// A created or modified file's bytes as text, when they are UTF-8 and within the caps,
    /// unless ``omitted`` says why not.
    public var content: String?
    /// A symbolic link's target (read, never followed).
    public var target: String?
    /// What of a created or modified file is not recorded, and why (binary content, a cap, an
    /// unreadable file, a secret in it).
    public var omitted: String?

    /// Creates a change.
    public init(
        path: String, kind: FileTree.Kind, change: Change, bytes: Int64? = nil, sha256: String? = nil,
        content: String? = nil, target: String? = nil, omitted: String? = nil
    ) {
        self.path = path
        self.kind = kind
        self.change = change
        self.bytes = bytes
        self.sha256 = sha256
        self.content = content
        self.target = target
        self.omitted = omitted
    }
}
