import AirlockCore

/// Why the Tools module could not do what it was asked: a bad manifest, an unknown tool, a drifted
/// executable, a registry that could not be written, a sandbox that could not be set up.
///
/// A tool's own failure (a non-zero exit, a timeout) is never this error: it is part of the
/// ``ToolRunResult``. Manifest problems are all collected in ``problems`` so that `tools lint`
/// reports every one, each with its JSON pointer and line.
public struct ToolsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable, Codable {
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
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed, for a person: the stage, the field or path, and the reason.
    public var message: String
    /// Every manifest or argument problem found, each with its pointer (and line when known).
    public var problems: [FieldProblem]
    /// The underlying error, when there is one (a sandbox error, an errno description).
    public var cause: String?
    /// Threat tags of the control that refused (`asi:04` for a drifted digest).
    public var threats: [String]

    /// Creates an error.
    public init(
        _ code: Code, _ message: String, problems: [FieldProblem] = [], cause: String? = nil,
        threats: [String] = []
    ) {
        self.code = code
        self.message = message
        self.problems = problems
        self.cause = cause
        self.threats = threats
    }

    /// The message, every problem on its own line, then the cause.
    public var description: String {
        var lines = [message]
        lines += problems.map { "  \($0)" }
        if let cause { lines.append("  cause: \(cause)") }
        return lines.joined(separator: "\n")
    }
}

/// One problem found in a manifest, a schema or a call's arguments: where and what.
public struct FieldProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The JSON pointer of the offending field (`/limits/memory`, `/paths/2`).
    public var pointer: String
    /// The 1-based source line, when the document came from a file.
    public var line: Int?
    /// What is wrong and, where possible, what would be right.
    public var message: String

    /// Creates a problem.
    public init(pointer: String, line: Int? = nil, message: String) {
        self.pointer = pointer
        self.line = line
        self.message = message
    }

    /// `/limits/memory (line 14): must be …`.
    public var description: String {
        let at = pointer.isEmpty ? "(root)" : pointer
        if let line { return "\(at) (line \(line)): \(message)" }
        return "\(at): \(message)"
    }
}
