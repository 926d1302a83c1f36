import AirlockCore

/// A condition on one argument that every call the policy could allow satisfies: a fact derived
/// from the policy's rules by ``Policy/necessaryConditions(for:principal:)``, for callers that
/// want to steer a proposer (a constrained model) away from calls that would only be denied.
///
/// Every check present must hold. With ``Presence/required`` the argument must be there; with
/// ``Presence/ifPresent`` the checks apply only when it is.
public struct ArgumentRequirement: Sendable, Hashable {
    /// Whether the argument must be present.
    public enum Presence: String, Sendable, Hashable {
        /// The argument must be there and pass every check.
        case required
        /// When the argument is there, it must pass every check; it may be absent.
        case ifPresent = "if-present"
    }

    /// The JSON pointer of the argument (`/path`).
    public var pointer: String
    /// Its unescaped tokens.
    public var tokens: [String]
    /// Whether it must be present.
    public var presence: Presence
    /// The JSON type it must have (`string`, `integer`, `number`, `boolean`, `array`, `object`, `null`).
    public var type: String?
    /// The only value allowed.
    public var equals: JSONValue?
    /// The values allowed, sorted by canonical JSON.
    public var oneOf: [JSONValue]?
    /// A regular expression the whole string must match (ICU syntax, as written in the policy).
    public var regex: String?
    /// A regular expression (whole string, a portable subset: literals, `.`, classes, groups,
    /// alternation, quantifiers) that every accepted path matches; a superset of what
    /// ``pathWithin`` accepts before normalisation, or `nil` when no such pattern is known.
    public var pathPattern: String?
    /// Normalised sandbox roots the path must lie within after normalisation.
    public var pathWithin: [String]?
    /// The smallest number allowed.
    public var minimum: Double?
    /// The largest number allowed.
    public var maximum: Double?
    /// The fewest characters (Unicode scalars), items or members.
    public var minLength: Int?
    /// The most characters (Unicode scalars), items or members.
    public var maxLength: Int?

    /// Creates a requirement with no checks.
    public init(pointer: String, tokens: [String], presence: Presence) {
        self.pointer = pointer
        self.tokens = tokens
        self.presence = presence
    }

    /// Whether the requirement checks anything besides presence.
    public var hasChecks: Bool {
        type != nil || equals != nil || oneOf != nil || regex != nil || pathWithin != nil || minimum != nil
            || maximum != nil || minLength != nil || maxLength != nil
    }
}
