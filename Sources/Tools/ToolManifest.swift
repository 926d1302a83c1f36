import AirlockCore
import Sandbox

/// A tool as its developer declared it: identity, pinned executable, argv template, input schema,
/// output, filesystem, environment, limits, seccomp groups, risk, data labels and threat tags.
///
/// Read from YAML or JSON with ``ManifestDecoder``, which reports every problem with its JSON
/// pointer and line. The format is documented in `docs/tools.md`.
public struct ToolManifest: Sendable {
    /// Namespaced name, `logs.search`: lowercase segments joined by dots.
    public var name: String
    /// `MAJOR.MINOR.PATCH`; a changed manifest must carry a higher one.
    public var version: String
    /// What the model is shown about the tool.
    public var description: String
    /// Who answers for the tool (a team or a person).
    public var owner: String
    /// The executable and its pin.
    public var executable: Executable
    /// How validated arguments become argv elements (never through a shell).
    public var argv: [ArgvElement]
    /// Whether the arguments are also written to standard input as canonical JSON.
    public var argumentsOnStdin: Bool
    /// The arguments' schema (always an object schema).
    public var input: JSONSchema
    /// What the tool prints and how much of it the model sees.
    public var output: Output
    /// Host paths made visible inside the sandbox, all through variables.
    public var mounts: [MountSpec]
    /// Fixed environment variables (added to `PATH`, `LANG` and `HOME`).
    public var environment: [String: String]
    /// Time, CPU, memory, process and file-size limits.
    public var limits: ToolLimits
    /// Extra syscall groups beyond the sandbox's default allowlist.
    public var syscallGroups: [SyscallGroup]
    /// How much harm a call can do.
    public var risk: RiskLevel
    /// Data labels the tool reads (`pii`, `secret`, `internal`).
    public var readsLabels: [String]
    /// Data labels its output carries.
    public var outputLabels: [String]
    /// Threat tags from docs/threats.md the tool is exposed to (`asi:02`).
    public var threats: [String]
    /// The manifest document as JSON: what the registry stores and hashes.
    public var document: JSONValue
    /// Secrets from the local store this tool receives, each for one call only.
    public var secrets: [SecretDeclaration] = []
    /// The internal services the tool may reach, each through a corridor for one call (default none).
    public var network = NetworkDeclaration()
    /// For one of an MCP server's tools (`SERVER.TOOL`): the server and the pins each start of
    /// it is checked against; `nil` for a tool that runs once per call.
    public var mcp: MCPBinding? = nil

    /// The SHA-256 of the canonical manifest document: a registered version's identity.
    public var manifestSHA256: String { SHA256.hex(document.canonicalBytes) }

    /// The executable a manifest names.
    public struct Executable: Sendable, Hashable {
        /// The path as written: relative paths are relative to the manifest's directory.
        public var path: String
        /// The pinned SHA-256 (64 lowercase hex digits).
        public var sha256: String
    }

    /// What the tool prints.
    public struct Output: Sendable, Hashable {
        /// `text` or `json`.
        public var format: OutputFormat
        /// Bytes of standard output fed back to the model; the rest is dropped and marked. Default 64 KiB.
        public var maxBytes: Int

        /// The default cap on what the model sees: 64 KiB.
        public static let defaultMaxBytes = 64 << 10
    }
}

/// What a tool prints on standard output.
public enum OutputFormat: String, Sendable, Hashable, Codable, CaseIterable {
    /// Free text.
    case text
    /// One JSON document.
    case json
}
