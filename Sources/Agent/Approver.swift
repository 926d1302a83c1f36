import AirlockCore

/// What a person is asked to approve: one exact call, with the policy's reasons and threat tags.
public struct ApprovalRequest: Sendable, Hashable {
    /// The call's id.
    public var callID: String
    /// The tool, as proposed.
    public var tool: String
    /// The exact arguments.
    public var arguments: JSONValue
    /// ``Policy/ArgumentDigest`` of the call: the approval is bound to it.
    public var argumentsDigest: String
    /// The rules that asked.
    public var rules: [String]
    /// Their reasons.
    public var reasons: [String]
    /// Their threat tags.
    public var tags: [String]
}

/// A person's answer.
public struct ApprovalAnswer: Sendable, Hashable {
    /// Whether the call may run.
    public var granted: Bool
    /// Who answered (`user@tty`, `pre-approved`, `no-terminal`).
    public var approver: String
    /// Why, when known.
    public var reason: String

    /// Creates an answer.
    public init(granted: Bool, approver: String, reason: String = "") {
        self.granted = granted
        self.approver = approver
        self.reason = reason
    }
}

/// Something that asks a person (the CLI's terminal prompt). The agent calls it only in approval
/// mode `ask`, for tools that are not pre-approved; with no approver the call is denied.
public protocol Approver: Sendable {
    /// Shows the request and returns the person's answer.
    func decide(_ request: ApprovalRequest) async -> ApprovalAnswer
}
