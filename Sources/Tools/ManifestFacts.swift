import AirlockCore

/// What the policy engine needs to know about a tool, as a plain value: identity, pinned digest,
/// risk, data labels, what it may touch, and its threat tags.
///
/// The JSON keys (`reads_labels`, `pinned_digest`, …) are those of the policy engine's tool facts,
/// so the shared fields carry over one to one; the caller adds the digest measured before the run.
public struct ManifestFacts: Sendable, Hashable, Codable {
    /// The tool's namespaced name.
    public var name: String
    /// The manifest's version.
    public var version: String
    /// The SHA-256 of the canonical manifest document.
    public var manifestSHA256: String
    /// The pinned SHA-256 of the executable (hex).
    public var pinnedDigest: String
    /// How much harm a call can do.
    public var risk: RiskLevel
    /// Data labels the tool reads.
    public var readsLabels: [String]
    /// Data labels its output carries.
    public var outputLabels: [String]
    /// Datasets it mounts (read-only).
    public var datasets: [String]
    /// Whether it can write to the run's workspace.
    public var writesWorkspace: Bool
    /// Whether it can write anywhere outside the run's workspace, from its mounts: `false` for every
    /// valid manifest today, since only `${workspace}` can be mounted read-write.
    public var writesOutsideWorkspace: Bool
    /// Threat tags from docs/threats.md.
    public var threats: [String]
    /// The internal endpoints it may reach (`network.connect`), as `host:port`; empty: no network.
    public var network: [String] = []

    enum CodingKeys: String, CodingKey {
        case name, version, risk, datasets, threats, network
        case manifestSHA256 = "manifest_sha256"
        case pinnedDigest = "pinned_digest"
        case readsLabels = "reads_labels"
        case outputLabels = "output_labels"
        case writesWorkspace = "writes_workspace"
        case writesOutsideWorkspace = "writes_outside_workspace"
    }
}

extension ToolManifest {
    /// The facts the policy engine decides on.
    public var facts: ManifestFacts {
        ManifestFacts(
            name: name, version: version, manifestSHA256: manifestSHA256, pinnedDigest: executable.sha256,
            risk: risk, readsLabels: readsLabels, outputLabels: outputLabels,
            datasets: mounts.compactMap { if case .dataset(let d) = $0.variable { d } else { nil } },
            writesWorkspace: mounts.contains { $0.writable && $0.variable == .workspace },
            writesOutsideWorkspace: mounts.contains { $0.writable && $0.variable != .workspace }, threats: threats,
            network: network.endpoints.map(\.text))
    }

    /// The OpenAI-style tool description the agent offers the model:
    /// `{"type": "function", "function": {"name", "description", "parameters"}}`, where
    /// `parameters` is the input schema as written.
    public var modelToolDescription: JSONValue {
        [
            "type": "function",
            "function": [
                "name": .string(name), "description": .string(description), "parameters": input.document,
            ],
        ]
    }
}
