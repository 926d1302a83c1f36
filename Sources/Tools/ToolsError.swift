import AirlockCore

/// Why the Tools module could not do what it was asked: a bad manifest, an unknown tool, a drifted
/// executable, a registry that could not be written, a sandbox that could not be set up.
///
/// A tool's own failure (a non-zero exit, a timeout) is never this error: it is part of the
/// ``ToolRunResult``. Manifest problems are all collected in ``problems`` so that `tools lint`
/// reports every one, each with its JSON pointer and line.
public typealias ToolsError = AirlockError<ToolsErrorCode>

/// What kind of failure a ``ToolsError`` is, and the exit status it ends a command with.
public enum ToolsErrorCode: String, AirlockErrorCode, Codable {
    /// The manifest (or a site configuration) is malformed; see ``problems``.
    case invalidManifest = "invalid-manifest"
    /// A file could not be read or written.
    case io
    /// A file named by the caller (a manifest) does not exist.
    case notFound = "not-found"
    /// The executable named by a manifest does not exist or is not a regular file.
    case executableMissing = "executable-missing"
    /// An executable's SHA-256 differs from its pin (`maestro:L4 maestro:L7 asi:04`).
    case digestMismatch = "digest-mismatch"
    /// A changed manifest reuses or lowers a version already registered.
    case versionConflict = "version-conflict"
    /// No tool (or no such version) is registered under the name.
    case unknownTool = "unknown-tool"
    /// The arguments of a call do not satisfy the tool's input schema.
    case invalidArguments = "invalid-arguments"
    /// A mount or path variable cannot be resolved safely (missing dataset, escaping path).
    case invalidPath = "invalid-path"
    /// The registry database failed.
    case registry
    /// The sandbox could not be set up; nothing ran.
    case sandbox
    /// A secret the manifest declares could not be delivered (missing from the store, no
    /// store, unreadable store); the call did not run.
    case secretUnavailable = "secret-unavailable"
    /// A host the manifest's `network.connect` names is not in the site's `internal_hosts:`
    /// map; the call did not run.
    case corridorUnresolved = "corridor-unresolved"
    /// An MCP server's tools differ from what was reviewed and pinned (a tool added, gone,
    /// redescribed or with another input schema: a "rug pull", `maestro:L7 asi:04`); refused until
    /// re-reviewed with `airlock tools add --accept-changes`.
    case mcpChanged = "mcp-changed"
    /// An MCP server did not start, answer or follow the protocol (its stderr's end in the cause).
    case mcpServer = "mcp-server"

    /// The row of the exit-code table (docs/cli.md) each kind of failure ends a command with.
    public var exitStatus: CommandExit {
        switch self {
        case .invalidManifest, .versionConflict, .invalidArguments, .invalidPath: .dataError
        case .io, .registry: .ioError
        case .notFound, .executableMissing, .unknownTool, .secretUnavailable, .corridorUnresolved: .noInput
        case .digestMismatch, .mcpChanged: .checkFailed
        case .mcpServer: .modelUnavailable
        case .sandbox: .sandboxSetup
        }
    }
}
