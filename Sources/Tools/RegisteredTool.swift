import AirlockCore
import Foundation

/// One registered version of a tool, as the registry keeps it.
public struct RegisteredTool: Sendable {
    /// The manifest as registered.
    public var manifest: ToolManifest
    /// The order in which versions of this tool were added: 1, 2, 3…
    public var revision: Int
    /// When this version was added (ISO 8601, UTC).
    public var addedAt: String
    /// The manifest file it was added from (informational).
    public var sourcePath: String
    /// When the tool was retired (`tools remove`), or `nil` while it is active.
    public var retiredAt: String?
    /// The content-addressed copy of the executable that runs: `AIRLOCK_HOME/tools/objects/<sha256>`.
    public var objectURL: URL

    /// `name@version`.
    public var reference: String { "\(manifest.name)@\(manifest.version)" }

    /// Creates a registered version (the registry does; a replay makes one from a recorded manifest).
    public init(
        manifest: ToolManifest, revision: Int, addedAt: String, sourcePath: String, retiredAt: String?, objectURL: URL
    ) {
        self.manifest = manifest
        self.revision = revision
        self.addedAt = addedAt
        self.sourcePath = sourcePath
        self.retiredAt = retiredAt
        self.objectURL = objectURL
    }
}

/// What `tools add` did with one manifest.
public enum AddOutcome: Sendable, Hashable, CustomStringConvertible {
    /// A new version was stored.
    case added(name: String, version: String, revision: Int)
    /// The manifest equals the latest registered version; nothing changed.
    case unchanged(name: String, version: String)
    /// The manifest equals the latest version of a retired tool, which is active again.
    case reactivated(name: String, version: String)

    /// One line for people.
    public var description: String {
        switch self {
        case .added(let name, let version, let revision):
            "added \(name)@\(version) (revision \(revision))"
        case .unchanged(let name, let version):
            "unchanged \(name)@\(version): already registered, nothing to do"
        case .reactivated(let name, let version):
            "reactivated \(name)@\(version)"
        }
    }
}
