import AirlockCore

/// A rule's `when` (or `unless`) block, compiled: every condition present must hold.
struct ConditionSet: Sendable, Hashable {
    /// Budgets: the block holds when this call would go past any limit given.
    struct Budget: Sendable, Hashable {
        var callsPerTool: Int64?
        var callsPerRun: Int64?
        var elapsedSeconds: Double?
        var outputBytes: Int64?
    }

    /// A rate limit: holds when this call would make more than `maxCalls` within `windowSeconds`.
    struct Rate: Sendable, Hashable {
        var maxCalls: Int64
        var windowSeconds: Double
        /// Count only calls of the same tool (`true`, default) or every call of the run.
        var perTool: Bool
    }

    var exactTools: Set<String>?
    var globs: [Glob] = []
    var roles: Set<String>?
    var users: Set<String>?
    var workflows: Set<String>?
    var agents: Set<String>?
    var riskAtLeast: RiskLevel?
    var arguments: [ArgumentConstraint] = []
    var budgetExceeded: Budget?
    var rateExceeded: Rate?
    var contextLabelsAny: Set<String>?
    var toolReadsLabelsAny: Set<String>?
    var toolOutputLabelsAny: Set<String>?
    var toolWritesOutsideWorkspace: Bool?
    /// `tool_network`: whether the tool declares any endpoint.
    var toolNetwork: Bool?
    /// `tool_network_any`: hosts or `host:port` endpoints, any of which the tool declares.
    var toolNetworkAny: Set<String>?

    /// Whether the block names tools at all (rules without `tools` apply to every tool).
    var hasToolSelector: Bool { exactTools != nil || !globs.isEmpty }

    func matchesTool(_ name: String) -> Bool {
        guard hasToolSelector else { return true }
        if let exactTools, exactTools.contains(name) { return true }
        return globs.contains { $0.matches(name) }
    }

    /// Whether every condition holds. `facts` is non-nil here: unknown tools stop at the guards.
    func holds(_ input: PolicyInput, facts: ToolFacts, paths: PathNormalizer, toolChecked: Bool) -> Bool {
        if !toolChecked && !matchesTool(input.toolName) { return false }
        if let roles, !roles.contains(input.principal.role) { return false }
        if let users, !users.contains(input.principal.user) { return false }
        if let workflows, !workflows.contains(input.principal.workflow) { return false }
        if let agents, !agents.contains(input.principal.agent) { return false }
        if let riskAtLeast, facts.risk < riskAtLeast { return false }
        if let toolWritesOutsideWorkspace, facts.writesOutsideWorkspace != toolWritesOutsideWorkspace { return false }
        if !holdsForNetwork(facts) { return false }
        if let contextLabelsAny, !input.context.labels.contains(where: contextLabelsAny.contains) { return false }
        if let toolReadsLabelsAny, !facts.readsLabels.contains(where: toolReadsLabelsAny.contains) { return false }
        if let toolOutputLabelsAny, !facts.outputLabels.contains(where: toolOutputLabelsAny.contains) { return false }
        if let budgetExceeded, !Self.exceeds(budgetExceeded, input) { return false }
        if let rateExceeded, !Self.exceeds(rateExceeded, input) { return false }
        for constraint in arguments where !constraint.holds(input.arguments, paths: paths) { return false }
        return true
    }

    /// The network conditions: `tool_network` and `tool_network_any`.
    func holdsForNetwork(_ facts: ToolFacts) -> Bool {
        if let toolNetwork, facts.network.isEmpty == toolNetwork { return false }
        if let toolNetworkAny, !toolNetworkAny.contains(where: facts.reaches) { return false }
        return true
    }

    private static func exceeds(_ budget: Budget, _ input: PolicyInput) -> Bool {
        let context = input.context
        if let limit = budget.callsPerTool, (context.callsByTool[input.toolName] ?? 0) + 1 > limit { return true }
        if let limit = budget.callsPerRun, context.totalCalls + 1 > limit { return true }
        if let limit = budget.elapsedSeconds, context.elapsedSeconds > limit { return true }
        if let limit = budget.outputBytes, context.outputBytes > limit { return true }
        return false
    }

    private static func exceeds(_ rate: Rate, _ input: PolicyInput) -> Bool {
        let since = input.context.now - rate.windowSeconds
        var count: Int64 = 0
        for call in input.context.recentCalls where call.at > since && (!rate.perTool || call.tool == input.toolName) {
            count += 1
        }
        return count + 1 > rate.maxCalls
    }
}
