/// What every call of one tool must satisfy for the policy to allow it, as far as the rules say
/// so independently of the run's changing context (labels, budgets, rates, approvals): the result
/// of ``Policy/necessaryConditions(for:principal:)``.
///
/// Sound by construction: a call that fails any of these would be denied. The converse does not
/// hold (the policy still judges every call): conditions that cannot be stated as argument checks
/// are left out, which only makes the requirements weaker.
public struct CallRequirements: Sendable, Hashable {
    /// The rules that deny every call of the tool for this principal (`default.deny` when no permit
    /// can match); empty when some call may be allowed.
    public var deniedBy: [String]
    /// Requirements every allowed call meets (a conjunction).
    public var all: [ArgumentRequirement]
    /// When every permit that could match constrains the arguments: one list per such permit, and
    /// an allowed call meets at least one list. `nil` when some permit constrains nothing.
    public var anyOf: [[ArgumentRequirement]]?

    /// Creates requirements.
    public init(deniedBy: [String] = [], all: [ArgumentRequirement] = [], anyOf: [[ArgumentRequirement]]? = nil) {
        self.deniedBy = deniedBy
        self.all = all
        self.anyOf = anyOf
    }

    /// Whether every call of the tool is denied.
    public var isAlwaysDenied: Bool { !deniedBy.isEmpty }
}
