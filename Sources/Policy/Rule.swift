/// One compiled policy rule.
struct Rule: Sendable, Hashable {
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

    func matches(_ input: PolicyInput, facts: ToolFacts, paths: PathNormalizer) -> Bool {
        guard when.holds(input, facts: facts, paths: paths) else { return false }
        if let unless, unless.holds(input, facts: facts, paths: paths) { return false }
        return true
    }
}
