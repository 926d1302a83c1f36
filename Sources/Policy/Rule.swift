import AirlockCore

/// One compiled policy rule.
///
/// A class so that evaluation passes one reference around instead of copying (and retaining) every
/// field of a large struct per candidate rule; it is immutable, hence `Sendable`.
final class Rule: Sendable {
    /// What a matching rule does.
    enum Effect: String, Sendable, Hashable, CaseIterable {
        /// Deny; overrides everything else.
        case forbid
        /// Ask a person, unless an approval for this exact call is already in the context.
        case requireApproval = "require_approval"
        /// Allow, unless a forbid or an unsatisfied approval rule also matches.
        case permit
    }

    /// The rule's unique id.
    let id: String
    /// Its effect.
    let effect: Effect
    /// Conditions that must all hold.
    let when: ConditionSet
    /// Conditions that, when all hold, stop the rule from matching (Cedar's `unless`).
    let unless: ConditionSet?
    /// The reason sentence.
    let reason: ReasonTemplate
    /// Threat tags from the vocabulary.
    let tags: [String]
    /// Position in the policy (rules are reported in this order).
    let index: Int
    /// JSON pointer of the rule in the document (`/rules/3`).
    let pointer: String
    /// For `require_approval`: only an approval by someone other than the run's principal counts
    /// (`approval: {separate_from_principal: true}`, separation of duties).
    let separateFromPrincipal: Bool

    init(
        id: String, effect: Effect, when: ConditionSet, unless: ConditionSet?, reason: ReasonTemplate, tags: [String],
        index: Int, pointer: String, separateFromPrincipal: Bool = false
    ) {
        self.separateFromPrincipal = separateFromPrincipal
        self.id = id
        self.effect = effect
        self.when = when
        self.unless = unless
        self.reason = reason
        self.tags = tags
        self.index = index
        self.pointer = pointer
    }

    /// Whether the rule matches; `toolChecked` skips the tool selector for rules reached through
    /// the exact-name index, which only lists rules that match that name.
    func matches(_ input: PolicyInput, facts: ToolFacts, paths: PathNormalizer, toolChecked: Bool) -> Bool {
        guard when.holds(input, facts: facts, paths: paths, toolChecked: toolChecked) else { return false }
        if let unless, unless.holds(input, facts: facts, paths: paths, toolChecked: true) { return false }
        return true
    }
}
