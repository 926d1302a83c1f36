import AirlockCore

/// A loaded, compiled policy: judges proposed tool calls.
///
/// Loading (``init(yaml:)``) validates every field, compiles regexes, globs, path roots and reason
/// templates once, and indexes the rules by exact tool name; ``evaluate(_:)`` is then a pure
/// function of its input: no I/O, no clock, no shared state.
///
/// Order of effects: a built-in guard → **deny**; any matching `forbid` → **deny**; otherwise any
/// matching `require_approval` without an approval for this exact call → **ask**; otherwise any
/// matching `permit` → **allow**; otherwise **deny** (`default.deny`).
public struct Policy: Sendable {
    /// Policy-wide settings (`settings:` in the document).
    public struct Settings: Sendable, Hashable {
        /// The sandbox path relative path arguments start from. Default `/workspace`.
        public var workspace: String = "/workspace"
        /// The longest path argument accepted, in bytes. Default 4096.
        public var maxPathLength: Int = 4096
        /// Approvals older than this many seconds are not honoured; `nil` (default) never expires.
        public var approvalMaxAgeSeconds: Double?
    }

    /// The policy's name.
    public let name: String
    /// Hex SHA-256 of the document's canonical JSON: what decisions and traces cite.
    public let digest: String
    /// Policy-wide settings.
    public let settings: Settings
    /// The compiled rules in document order.
    let rules: [Rule]
    /// Candidate rule indices per exact tool name (exact-name rules merged with matching globs).
    let candidatesByTool: [String: [Int]]
    /// Rules that name no exact tool: globs and rules for every tool, in document order.
    let wildcardRules: [Int]
    /// Path normaliser built from the settings.
    let paths: PathNormalizer

    /// The rule ids in document order.
    public var ruleIDs: [String] { rules.map(\.id) }

    /// Judges one proposed call.
    /// - Parameter input: the principal, run context, tool facts and arguments.
    /// - Returns: the decision; never throws, every outcome is a value.
    public func evaluate(_ input: PolicyInput) -> Decision {
        let guards = BuiltinGuard.check(input)
        guard guards.isEmpty, let facts = input.tool else {
            var tags: Set<String> = []
            for (g, _) in guards { tags.formUnion(g.tags) }
            return decision(.deny, rules: guards.map(\.0.rawValue), reasons: guards.map(\.1), tags: tags)
        }
        var forbids: [Rule] = []
        var gates: [Rule] = []
        var permits: [Rule] = []
        func visit(_ rule: Rule, toolChecked: Bool) {
            guard rule.matches(input, facts: facts, paths: paths, toolChecked: toolChecked) else { return }
            switch rule.effect {
            case .forbid: forbids.append(rule)
            case .requireApproval: gates.append(rule)
            case .permit: permits.append(rule)
            }
        }
        if let candidates = candidatesByTool[input.toolName] {
            for index in candidates { visit(rules[index], toolChecked: true) }
        } else {
            for index in wildcardRules { visit(rules[index], toolChecked: false) }
        }
        if !forbids.isEmpty { return decision(.deny, rules: forbids, input: input) }

        var approvedBy: [String] = []
        if !gates.isEmpty {
            // Separation of duties: the run's principal's own approval does not count for a rule
            // that requires someone else.
            let separate = gates.contains { $0.separateFromPrincipal }
            guard let approval = approval(for: input, excluding: separate ? input.principal.user : nil) else {
                var ask = decision(.ask, rules: gates, input: input)
                ask.separateFromPrincipal = separate
                return ask
            }
            approvedBy.append("\(approval.by)@\(JSONValue.number(approval.at).canonicalString)")
        }
        guard !permits.isEmpty else {
            let reason =
                "No rule permits tool '\(input.toolName)' for role '\(input.principal.role)' in workflow "
                + "'\(input.principal.workflow)' with these arguments; Airlock denies by default."
            return decision(
                .deny, rules: [BuiltinGuard.defaultDenyID], reasons: [reason], tags: Set(BuiltinGuard.defaultDenyTags))
        }
        var result = decision(.allow, rules: (permits + gates).sorted { $0.index < $1.index }, input: input)
        result.approvals = approvedBy
        return result
    }

    /// The newest approval in the context bound to this exact call, still fresh enough, and not
    /// given by `excluded`.
    private func approval(for input: PolicyInput, excluding excluded: String?) -> PolicyInput.Approval? {
        let context = input.context
        guard context.approvals.contains(where: { $0.tool == input.toolName }) else { return nil }
        let digest = ArgumentDigest.digest(tool: input.toolName, arguments: input.arguments)
        return context.approvals.last { approval in
            guard approval.tool == input.toolName, approval.argumentsDigest == digest else { return false }
            if let excluded, approval.by == excluded { return false }
            if let maxAge = settings.approvalMaxAgeSeconds, context.now - approval.at > maxAge { return false }
            return approval.at <= context.now
        }
    }

    private func decision(_ effect: Decision.Effect, rules matched: [Rule], input: PolicyInput) -> Decision {
        var tags: Set<String> = []
        for rule in matched { tags.formUnion(rule.tags) }
        return decision(effect, rules: matched.map(\.id), reasons: matched.map { $0.reason.render(input) }, tags: tags)
    }

    private func decision(_ effect: Decision.Effect, rules: [String], reasons: [String], tags: Set<String>) -> Decision
    {
        Decision(
            effect: effect, rules: rules, reasons: reasons, tags: tags.sorted(), policyName: name,
            policyDigest: digest)
    }
}
