import AirlockCore

/// The outcome of judging one proposed tool call, with everything a reviewer needs to see why.
///
/// Deterministic: the same policy and input give the same decision, and ``json`` gives the same
/// bytes (canonical JSON, sorted keys).
public struct Decision: Sendable, Hashable {
    /// What happens to the call.
    public enum Effect: String, Sendable, Hashable, Codable, CaseIterable {
        /// The call may run.
        case allow
        /// A person must approve this exact call first.
        case ask
        /// The call must not run.
        case deny
    }

    /// What happens to the call.
    public var effect: Effect
    /// Ids of the rules and guards that made the decision, in policy order (guards first).
    public var rules: [String]
    /// One sentence per rule or guard, in the same order, that a person can act on.
    public var reasons: [String]
    /// The threat tags of those rules and guards, sorted and without repeats.
    public var tags: [String]
    /// Who approved, for decisions that rest on an approval (`alice@1732400000`).
    public var approvals: [String]
    /// The policy's name.
    public var policyName: String
    /// The policy's digest (hex SHA-256 of its canonical JSON).
    public var policyDigest: String
    /// On an **ask**: a rule that asked requires an approver other than the run's principal
    /// (`approval: {separate_from_principal: true}`).
    public var separateFromPrincipal: Bool = false

    /// Creates a decision.
    public init(
        effect: Effect, rules: [String], reasons: [String], tags: [String], approvals: [String] = [],
        policyName: String, policyDigest: String
    ) {
        self.effect = effect
        self.rules = rules
        self.reasons = reasons
        self.tags = tags
        self.approvals = approvals
        self.policyName = policyName
        self.policyDigest = policyDigest
    }

    /// The decision as JSON (what the trace records and `--json` prints);
    /// `separate_from_principal` only when it holds.
    public var json: JSONValue {
        var json: [String: JSONValue] = [
            "effect": .string(effect.rawValue),
            "rules": .array(rules.map { .string($0) }),
            "reasons": .array(reasons.map { .string($0) }),
            "tags": .array(tags.map { .string($0) }),
            "approvals": .array(approvals.map { .string($0) }),
            "policy": ["name": .string(policyName), "digest": .string(policyDigest)],
        ]
        if separateFromPrincipal { json["separate_from_principal"] = .bool(true) }
        return .object(json)
    }

    /// The human rendering used by `airlock policy check`.
    public var text: String {
        var lines = ["\(effect.rawValue.uppercased())  (policy \(policyName), \(policyDigest.prefix(12)))"]
        for (id, reason) in zip(rules, reasons) { lines.append("  \(id): \(reason)") }
        if !approvals.isEmpty { lines.append("  approved by: \(approvals.joined(separator: ", "))") }
        if separateFromPrincipal { lines.append("  approver: someone other than the run's principal") }
        lines.append("  tags: \(tags.joined(separator: " "))")
        return lines.joined(separator: "\n")
    }
}
