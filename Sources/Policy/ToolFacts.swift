import AirlockCore

/// What the policy needs to know about the tool being called, taken from its registered manifest.
///
/// The caller (the agent, or `airlock policy check` from a call file) fills this in; the policy
/// module never reads the registry itself. `nil` in ``PolicyInput/tool`` means the registry does
/// not know the tool.
public struct ToolFacts: Sendable, Hashable, Codable {
    /// The registered tool name (exact, case-sensitive).
    public var name: String
    /// The registered manifest version.
    public var version: String
    /// The manifest's risk level.
    public var risk: RiskLevel
    /// Data labels of what the tool reads (e.g. `pii`, `secret`).
    public var readsLabels: [String]
    /// Data labels its output carries into the conversation.
    public var outputLabels: [String]
    /// Whether the tool writes anywhere outside the run's workspace.
    public var writesOutsideWorkspace: Bool
    /// The executable digest pinned at registration (hex SHA-256).
    public var pinnedDigest: String
    /// The executable digest measured just now (hex SHA-256).
    public var currentDigest: String
    /// Schema validation errors for the arguments, already computed by the caller; any → deny.
    public var schemaErrors: [String]
    /// The internal endpoints the tool may reach (its manifest's `network.connect`), as
    /// `host:port`; empty: no network.
    public var network: [String]

    /// Creates tool facts.
    public init(
        name: String, version: String, risk: RiskLevel, readsLabels: [String] = [], outputLabels: [String] = [],
        writesOutsideWorkspace: Bool = false, pinnedDigest: String, currentDigest: String,
        schemaErrors: [String] = [], network: [String] = []
    ) {
        self.name = name
        self.version = version
        self.risk = risk
        self.readsLabels = readsLabels
        self.outputLabels = outputLabels
        self.writesOutsideWorkspace = writesOutsideWorkspace
        self.pinnedDigest = pinnedDigest
        self.currentDigest = currentDigest
        self.schemaErrors = schemaErrors
        self.network = network
    }

    /// Whether any endpoint is `selector` (`host:port`) or on host `selector`.
    func reaches(_ selector: String) -> Bool {
        network.contains { $0 == selector || $0.hasPrefix(selector + ":") }
    }

    enum CodingKeys: String, CodingKey {
        case name, version, risk, network
        case readsLabels = "reads_labels"
        case outputLabels = "output_labels"
        case writesOutsideWorkspace = "writes_outside_workspace"
        case pinnedDigest = "pinned_digest"
        case currentDigest = "current_digest"
        case schemaErrors = "schema_errors"
    }
}
