import AirlockCore
import Trace

/// `policy.decision`: the policy's decision on one proposal, with the rules that decided it.
public struct PolicyDecisionRecord: RunEventPayload {
    public static let type = TraceEventType.policyDecision
    /// The call's id.
    public var callID: String
    /// `allow`, `deny` or `ask`.
    public var decision: String
    /// The rules that decided, most decisive first.
    public var rules: [String]
    /// Their reasons, for a person.
    public var reasons: [String]
    /// Their threat tags (docs/threats.md).
    public var tags: [String]
    /// The approvals the decision counted (`by@time`); absent for the agent's own budget denial.
    public var approvals: [String]?
    /// The policy that decided; absent for the agent's own budget denial.
    public var policy: PolicyRef?
    /// `true` on the second decision, made after a person approved.
    public var afterApproval: Bool?

    /// The policy's identity.
    public struct PolicyRef: Sendable, Hashable, Codable {
        /// The policy's name.
        public var name: String
        /// Its digest.
        public var digest: String

        /// Creates a reference.
        public init(name: String, digest: String) {
            self.name = name
            self.digest = digest
        }
    }

    /// Creates the record of a decision.
    public init(
        callID: String, decision: String, rules: [String], reasons: [String], tags: [String],
        approvals: [String]? = nil, policy: PolicyRef? = nil, afterApproval: Bool? = nil
    ) {
        self.callID = callID
        self.decision = decision
        self.rules = rules
        self.reasons = reasons
        self.tags = tags
        self.approvals = approvals
        self.policy = policy
        self.afterApproval = afterApproval
    }

    enum CodingKeys: String, CodingKey {
        case decision, rules, reasons, tags, approvals, policy
        case callID = "call_id"
        case afterApproval = "after_approval"
    }
}

/// `approval.requested`: a call the policy asks about, bound to exactly these arguments.
public struct ApprovalRequested: RunEventPayload {
    public static let type = TraceEventType.approvalRequested
    /// The call's id.
    public var callID: String
    /// The tool.
    public var tool: String
    /// The digest of tool and canonical arguments an approval is bound to.
    public var argumentsSHA256: String
    /// The rules that asked.
    public var rules: [String]?
    /// Their reasons.
    public var reasons: [String]
    /// Their threat tags.
    public var tags: [String]
    /// The id of the request in the home's approval store (`airlock approvals approve ID`), when a
    /// person is asked.
    public var requestID: String?
    /// How long the run waits for an answer, in seconds, when a person is asked.
    public var timeoutSeconds: Double?
    /// `true` when the policy requires an approver other than the run's principal.
    public var separateFromPrincipal: Bool?

    /// Creates the record of a request.
    public init(
        callID: String, tool: String, argumentsSHA256: String, rules: [String]?, reasons: [String], tags: [String],
        requestID: String? = nil, timeoutSeconds: Double? = nil, separateFromPrincipal: Bool? = nil
    ) {
        self.callID = callID
        self.tool = tool
        self.argumentsSHA256 = argumentsSHA256
        self.rules = rules
        self.reasons = reasons
        self.tags = tags
        self.requestID = requestID
        self.timeoutSeconds = timeoutSeconds
        self.separateFromPrincipal = separateFromPrincipal
    }

    enum CodingKeys: String, CodingKey {
        case tool, rules, reasons, tags
        case callID = "call_id"
        case argumentsSHA256 = "arguments_sha256"
        case requestID = "request_id"
        case timeoutSeconds = "timeout_seconds"
        case separateFromPrincipal = "separate_from_principal"
    }
}

/// `approval.granted` / `approval.denied`: the answer, who gave it and where it came from.
public struct ApprovalAnswered: Sendable, Hashable, Codable {
    /// Where an answer came from.
    public enum Source: String, Sendable, Hashable, Codable {
        /// A person answered on the run's terminal (runs recorded before `terminal` existed).
        case person
        /// The run's principal answered on the run's terminal.
        case terminal
        /// A person answered through the home's approval store (`airlock approvals`), from any
        /// process.
        case store
        /// The MCP client's user answered an elicitation (`airlock mcp serve`, docs/mcp.md).
        case mcpElicitation = "mcp-elicitation"
        /// No one answered within the workflow's `approval.timeout`.
        case timeout
        /// The tool was approved in advance (the workflow's `pre_approved` or `--approve`).
        case preApproved = "pre-approved"
        /// The workflow's approval mode is `deny`.
        case workflow
        /// There was no one to ask (no approver: an orchestrator without a terminal or store).
        case noTerminal = "no-terminal"
    }

    /// Which calls a grant covers.
    public enum Scope: String, Sendable, Hashable, Codable, CaseIterable {
        /// This one call: a later identical call asks again.
        case once
        /// This call and later identical calls (same tool, same argument digest) in this run.
        case run
    }

    /// The call's id.
    public var callID: String
    /// Who answered.
    public var approver: String
    /// The digest the answer is bound to.
    public var argumentsSHA256: String
    /// Why.
    public var reason: String
    /// Where the answer came from; a replay asks its stand-in only where a person answered, no
    /// one answered in time, or no one could be asked.
    public var source: Source?
    /// The local account of the person who answered (`USER`, else the effective uid's name), when
    /// a person did.
    public var identity: String?
    /// For a grant, which calls it covers.
    public var scope: Scope?

    /// Creates the record of an answer.
    public init(
        callID: String, approver: String, argumentsSHA256: String, reason: String, source: Source,
        identity: String? = nil, scope: Scope? = nil
    ) {
        self.callID = callID
        self.approver = approver
        self.argumentsSHA256 = argumentsSHA256
        self.reason = reason
        self.source = source
        self.identity = identity
        self.scope = scope
    }

    enum CodingKeys: String, CodingKey {
        case approver, reason, source, identity, scope
        case callID = "call_id"
        case argumentsSHA256 = "arguments_sha256"
    }
}
