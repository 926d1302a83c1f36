import AirlockCore

extension Policy {
    /// The conditions every call of `tool` by `principal` must meet to be allowed: facts for a
    /// caller that wants to keep a proposer away from calls that would only be denied.
    ///
    /// Derived, per rule, only where the rule makes a condition necessary whatever the run's
    /// context (labels, budgets, rates and approvals change during a run and are left out):
    /// - no `permit` can match the tool and principal → every call is denied (`default.deny`);
    /// - a `forbid` whose `when` holds for the tool and principal, with no argument conditions
    ///   and no `unless` → every call is denied; with an `unless` made only of argument
    ///   constraints → those constraints are required;
    /// - a `forbid` whose `when` holds when one argument is present (`present: true`), with an
    ///   `unless` made only of constraints on that argument → those apply whenever it is present;
    /// - every `permit` that could match constrains the arguments → one of those sets must hold.
    ///
    /// Anything else (`require_approval`, `forbid` on argument patterns, `present: false`) adds
    /// nothing: the result may be weaker than the policy, never stronger.
    /// - Parameters:
    ///   - tool: the tool's registered facts.
    ///   - principal: who runs it, in which workflow.
    /// - Returns: the requirements; pure, no I/O.
    public func necessaryConditions(for tool: ToolFacts, principal: PolicyInput.Principal) -> CallRequirements {
        var result = CallRequirements()
        var permitSets: [[ArgumentRequirement]] = []
        var unconstrainedPermit = false
        for rule in rules {
            guard rule.when.staticallyHolds(tool: tool, principal: principal) else { continue }
            switch rule.effect {
            case .requireApproval:
                continue
            case .permit:
                let set = rule.when.arguments.compactMap { requirement($0, presence: .required) }
                if set.isEmpty { unconstrainedPermit = true } else { permitSets.append(set) }
            case .forbid:
                guard !rule.when.dependsOnContext else { continue }
                forbidRequirements(rule, tool: tool, principal: principal, into: &result)
            }
        }
        if permitSets.isEmpty && !unconstrainedPermit { result.deniedBy.append(BuiltinGuard.defaultDenyID) }
        if !unconstrainedPermit && !permitSets.isEmpty { result.anyOf = permitSets }
        return result
    }

    private func forbidRequirements(
        _ rule: Rule, tool: ToolFacts, principal: PolicyInput.Principal, into result: inout CallRequirements
    ) {
        guard let unless = rule.unless else {
            if rule.when.arguments.isEmpty { result.deniedBy.append(rule.id) }
            return
        }
        guard !unless.dependsOnContext else { return }
        // `evaluate` does not read an `unless` block's tool selector, so neither does this.
        guard unless.staticallyHolds(tool: tool, principal: principal, checkingTool: false) else {
            // The exception never applies: the rule forbids whenever its `when` holds.
            if rule.when.arguments.isEmpty { result.deniedBy.append(rule.id) }
            return
        }
        if rule.when.arguments.isEmpty {
            result.all += unless.arguments.compactMap { requirement($0, presence: .required) }
            return
        }
        // `when: {pointer: P, present: true}` + `unless` on P only: P, when present, must pass.
        guard rule.when.arguments.count == 1, let trigger = rule.when.arguments.first,
            trigger.present == true, trigger.isPresenceOnly,
            unless.arguments.allSatisfy({ $0.pointer == trigger.pointer })
        else { return }
        result.all += unless.arguments.compactMap { requirement($0, presence: .ifPresent) }
    }

    /// The public form of a compiled constraint, or `nil` when it checks nothing expressible
    /// (`present: false`, or presence alone where presence is not required).
    private func requirement(_ constraint: ArgumentConstraint, presence: ArgumentRequirement.Presence)
        -> ArgumentRequirement?
    {
        if constraint.present == false { return nil }
        var result = ArgumentRequirement(pointer: constraint.pointer, tokens: constraint.tokens, presence: presence)
        result.type = constraint.type
        result.equals = constraint.equals
        result.oneOf = constraint.oneOf.map { $0.sorted { $0.canonicalString < $1.canonicalString } }
        result.regex = constraint.regex?.pattern
        result.minimum = constraint.minimum
        result.maximum = constraint.maximum
        result.minLength = constraint.minLength
        result.maxLength = constraint.maxLength
        if let roots = constraint.pathWithin {
            result.pathWithin = roots
            result.pathPattern = paths.rawPathPattern(within: roots)
        }
        guard result.hasChecks || presence == .required else { return nil }
        return result
    }
}

extension ArgumentConstraint {
    /// Whether the constraint checks presence only (`{pointer, present}`).
    var isPresenceOnly: Bool {
        type == nil && equals == nil && oneOf == nil && regex == nil && minimum == nil && maximum == nil
            && minLength == nil && maxLength == nil && pathWithin == nil
    }
}

extension ConditionSet {
    /// Whether the block reads the run's changing context (labels, budgets, rates).
    var dependsOnContext: Bool { contextLabelsAny != nil || budgetExceeded != nil || rateExceeded != nil }

    /// Whether every condition on the tool and principal holds (context and arguments not read);
    /// `checkingTool: false` skips the tool selector, as evaluation does for `unless` blocks.
    func staticallyHolds(tool: ToolFacts, principal: PolicyInput.Principal, checkingTool: Bool = true) -> Bool {
        if checkingTool && !matchesTool(tool.name) { return false }
        if let roles, !roles.contains(principal.role) { return false }
        if let users, !users.contains(principal.user) { return false }
        if let workflows, !workflows.contains(principal.workflow) { return false }
        if let agents, !agents.contains(principal.agent) { return false }
        if let riskAtLeast, tool.risk < riskAtLeast { return false }
        if let toolWritesOutsideWorkspace, tool.writesOutsideWorkspace != toolWritesOutsideWorkspace { return false }
        if !holdsForNetwork(tool) { return false }
        if let toolReadsLabelsAny, !tool.readsLabels.contains(where: toolReadsLabelsAny.contains) { return false }
        if let toolOutputLabelsAny, !tool.outputLabels.contains(where: toolOutputLabelsAny.contains) { return false }
        return true
    }
}
