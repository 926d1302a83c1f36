import AirlockCore

/// The checks that run before any policy rule and that no permit can override.
///
/// Their ids and tags are fixed (docs/policy.md lists them); a policy cannot define rules with the
/// `builtin.` or `default.` prefixes.
public enum BuiltinGuard: String, Sendable, CaseIterable {
    /// The registry does not know the proposed tool.
    case unknownTool = "builtin.unknown-tool"
    /// The registered name differs from the proposed one (case or look-alike tricks).
    case toolNameMismatch = "builtin.tool-name-mismatch"
    /// The arguments failed the manifest's schema (or were not JSON).
    case schemaInvalid = "builtin.schema-invalid"
    /// The executable's digest differs from the registered pin.
    case digestDrift = "builtin.digest-drift"
    /// The workflow does not allow this tool.
    case notInWorkflow = "builtin.not-in-workflow"

    /// The id of the catch-all "nothing permitted this" outcome.
    public static let defaultDenyID = "default.deny"
    /// The tags of the default deny.
    public static let defaultDenyTags = ["maestro:L6"]

    /// The guard's threat tags.
    public var tags: [String] {
        switch self {
        case .unknownTool, .schemaInvalid, .notInWorkflow: ["maestro:L3", "asi:02"]
        case .toolNameMismatch: ["maestro:L3", "maestro:L7", "asi:02"]
        case .digestDrift: ["maestro:L4", "maestro:L7", "asi:04"]
        }
    }

    /// The guards that fire for `input`, each with its reason, in declaration order.
    static func check(_ input: PolicyInput) -> [(BuiltinGuard, String)] {
        guard let facts = input.tool else {
            return [
                (
                    .unknownTool,
                    "Tool '\(input.toolName)' is not registered; register it with 'airlock tools add' or use a "
                        + "registered name (names are case-sensitive)."
                )
            ]
        }
        var fired: [(BuiltinGuard, String)] = []
        if facts.name != input.toolName {
            fired.append(
                (
                    .toolNameMismatch,
                    "The proposed name '\(input.toolName)' is not the registered name '\(facts.name)'; tool names "
                        + "must match exactly."
                ))
        }
        if !facts.schemaErrors.isEmpty {
            let shown = facts.schemaErrors.prefix(3).joined(separator: "; ")
            fired.append(
                (.schemaInvalid, "The arguments fail the manifest schema of '\(facts.name)': \(shown)."))
        }
        if !sameDigest(facts.pinnedDigest, facts.currentDigest) {
            fired.append(
                (
                    .digestDrift,
                    "The executable of '\(facts.name)' has digest \(facts.currentDigest.prefix(16))…, not the "
                        + "pinned \(facts.pinnedDigest.prefix(16))…; re-register the tool after review."
                ))
        }
        if let allowed = input.workflowAllowedTools, !allowed.contains(input.toolName) {
            fired.append(
                (
                    .notInWorkflow,
                    "Workflow '\(input.principal.workflow)' does not allow tool '\(input.toolName)'; add it to "
                        + "the workflow's tools if it is needed."
                ))
        }
        return fired
    }

    /// Hex digests compared without regard to case, without allocating.
    private static func sameDigest(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        return zip(a.utf8, b.utf8).allSatisfy { x, y in x | 0x20 == y | 0x20 }
    }
}
