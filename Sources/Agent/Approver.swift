import AirlockCore
import RunEvents

/// What a person is asked to approve: one exact call, with the policy's reasons and threat tags.
public struct ApprovalRequest: Sendable, Hashable {
    /// The request's id (``identifier(runID:proposal:)``): what `airlock approvals approve` names.
    public var id: String
    /// The run that asks.
    public var runID: String
    /// The run's workflow.
    public var workflow: String
    /// Who the run acts for.
    public var principal: String
    /// The call's id.
    public var callID: String
    /// The tool, as proposed.
    public var tool: String
    /// The exact arguments.
    public var arguments: JSONValue
    /// The exact arguments as canonical JSON, redacted as the trace redacts them: what may be
    /// shown and stored.
    public var argumentsText: String
    /// ``Policy/ArgumentDigest`` of the call: the approval is bound to it.
    public var argumentsDigest: String
    /// The rules that asked.
    public var rules: [String]
    /// Their reasons.
    public var reasons: [String]
    /// Their threat tags.
    public var tags: [String]
    /// Whether the policy requires an approver other than ``principal``.
    public var separateFromPrincipal: Bool
    /// How long the run waits for an answer, in seconds (the workflow's `approval.timeout`).
    public var timeoutSeconds: Double

    /// Creates a request.
    public init(
        id: String, runID: String, workflow: String, principal: String, callID: String, tool: String,
        arguments: JSONValue, argumentsText: String, argumentsDigest: String, rules: [String], reasons: [String],
        tags: [String], separateFromPrincipal: Bool = false,
        timeoutSeconds: Double = Workflow.defaultApprovalTimeoutSeconds
    ) {
        self.id = id
        self.runID = runID
        self.workflow = workflow
        self.principal = principal
        self.callID = callID
        self.tool = tool
        self.arguments = arguments
        self.argumentsText = argumentsText
        self.argumentsDigest = argumentsDigest
        self.rules = rules
        self.reasons = reasons
        self.tags = tags
        self.separateFromPrincipal = separateFromPrincipal
        self.timeoutSeconds = timeoutSeconds
    }

    /// How many hex digits of the digest a request id keeps: short enough to type, long enough
    /// (48 bits) that two requests of one home do not share one in practice; the store refuses a
    /// second request with an id already used.
    public static let identifierLength = 12

    /// The id of the `proposal`-th proposal's request in run `runID`: derived, not drawn, so that
    /// a replay records the same id.
    public static func identifier(runID: String, proposal: Int) -> String {
        String(SHA256.hex(Array("airlock-approval\n\(runID)\n\(proposal)".utf8)).prefix(identifierLength))
    }
}

/// A person's answer.
public struct ApprovalAnswer: Sendable, Hashable {
    /// Whether the call may run.
    public var granted: Bool
    /// Who answered, as shown (`user@tty`, `bob`, `timeout`).
    public var approver: String
    /// Why, when known.
    public var reason: String
    /// The local account of the person who answered, when a person did: what separation of duties
    /// compares with the run's principal, and the `by` of the approval the policy counts.
    public var identity: String?
    /// For a grant, which calls it covers (default ``RunEvents/ApprovalAnswered/Scope/once``).
    public var scope: ApprovalAnswered.Scope
    /// Where it came from (default ``RunEvents/ApprovalAnswered/Source/person``).
    public var source: ApprovalAnswered.Source

    /// Creates an answer.
    public init(
        granted: Bool, approver: String, reason: String = "", identity: String? = nil,
        scope: ApprovalAnswered.Scope = .once, source: ApprovalAnswered.Source = .person
    ) {
        self.granted = granted
        self.approver = approver
        self.reason = reason
        self.identity = identity
        self.scope = scope
        self.source = source
    }
}

/// Something that asks a person (the home's approval store, with the CLI's terminal prompt). The
/// agent calls it only in approval mode `ask`, for calls that are not pre-approved; with no
/// approver the call is denied (`no-terminal`).
public protocol Approver: Sendable {
    /// Shows the request and returns the person's answer (or a timeout's).
    func decide(_ request: ApprovalRequest) async -> ApprovalAnswer
}
