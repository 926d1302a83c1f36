import AirlockCore
import RunEvents

/// One approval request in the home's store (`AIRLOCK_HOME/approvals.sqlite`): the exact call a
/// run waits on, and, once answered, who answered, why and with which scope.
public struct ApprovalRecord: Sendable, Hashable {
    /// Where a request stands.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// The run waits for an answer.
        case pending
        /// Someone approved it.
        case granted
        /// Someone refused it.
        case denied
        /// No one answered in time, or the run that waited is gone.
        case expired
    }

    /// An answer.
    public struct Answer: Sendable, Hashable {
        /// The longest reason accepted, in bytes: a sentence or two, not a document.
        public static let maxReasonBytes = 1024

        /// What is wrong with a reason a person gave (`nil` when nothing is): every front door
        /// that takes one (`airlock approvals`, the console) checks it so.
        /// - Parameters:
        ///   - reason: the reason, or `nil` when none was given.
        ///   - required: whether one must be given (a denial must say why).
        public static func problem(reason: String?, required: Bool) -> String? {
            guard let reason else { return required ? "a reason is required: say why" : nil }
            if reason.allSatisfy(\.isWhitespace) { return "the reason must not be empty" }
            if reason.utf8.count > maxReasonBytes {
                return "the reason is \(reason.utf8.count) bytes; at most \(maxReasonBytes)"
            }
            return nil
        }

        /// Who answered: the local account (`USER`, else the effective uid's name), or `timeout`
        /// / `airlock` when no person did.
        public var approver: String
        /// Why, as the approver wrote it (or the reason Airlock closed the request).
        public var reason: String
        /// For a grant, which calls it covers.
        public var scope: ApprovalAnswered.Scope?
        /// Where it came from: `terminal`, `store` (`airlock approvals`), `timeout`; `nil` when
        /// Airlock closed a request whose run was gone.
        public var source: ApprovalAnswered.Source?
        /// When, in seconds since 1970.
        public var at: Double

        /// Creates an answer.
        public init(
            approver: String, reason: String, scope: ApprovalAnswered.Scope?, source: ApprovalAnswered.Source?,
            at: Double
        ) {
            self.approver = approver
            self.reason = reason
            self.scope = scope
            self.source = source
            self.at = at
        }
    }

    /// The request's id (12 hex digits, derived from the run id and the proposal's number).
    public var id: String
    /// The run that asks.
    public var runID: String
    /// The call's id in that run.
    public var callID: String
    /// The run's workflow.
    public var workflow: String
    /// Who the run acts for.
    public var principal: String
    /// The tool.
    public var tool: String
    /// The exact arguments, canonical JSON, redacted as the trace redacts them.
    public var arguments: String
    /// The digest of tool and arguments the approval is bound to (``Policy/ArgumentDigest``).
    public var argumentsSHA256: String
    /// The rules that asked.
    public var rules: [String]
    /// Their reasons.
    public var reasons: [String]
    /// Their threat tags.
    public var tags: [String]
    /// Whether the policy requires an approver other than ``principal``.
    public var separateFromPrincipal: Bool
    /// When the request was written, in seconds since 1970.
    public var createdAt: Double
    /// When the run stops waiting, in seconds since 1970.
    public var deadline: Double
    /// The process that waits.
    public var waiter: ApprovalWaiter
    /// Where it stands.
    public var state: State
    /// The answer, once there is one.
    public var answer: Answer?

    /// Creates a pending request.
    public init(
        id: String, runID: String, callID: String, workflow: String, principal: String, tool: String,
        arguments: String, argumentsSHA256: String, rules: [String], reasons: [String], tags: [String],
        separateFromPrincipal: Bool, createdAt: Double, deadline: Double, waiter: ApprovalWaiter,
        state: State = .pending, answer: Answer? = nil
    ) {
        self.id = id
        self.runID = runID
        self.callID = callID
        self.workflow = workflow
        self.principal = principal
        self.tool = tool
        self.arguments = arguments
        self.argumentsSHA256 = argumentsSHA256
        self.rules = rules
        self.reasons = reasons
        self.tags = tags
        self.separateFromPrincipal = separateFromPrincipal
        self.createdAt = createdAt
        self.deadline = deadline
        self.waiter = waiter
        self.state = state
        self.answer = answer
    }

    /// The whole timeout the run waits, in seconds.
    public var timeoutSeconds: Double { deadline - createdAt }

    /// The record as JSON (`airlock approvals list|show --json`); the arguments as the JSON value
    /// they are.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "run_id": .string(runID), "call_id": .string(callID), "workflow": .string(workflow),
            "principal": .string(principal), "tool": .string(tool),
            "arguments": (try? JSONParser().parse(arguments)) ?? .string(arguments),
            "arguments_sha256": .string(argumentsSHA256), "rules": .array(rules.map(JSONValue.string)),
            "reasons": .array(reasons.map(JSONValue.string)), "tags": .array(tags.map(JSONValue.string)),
            "separate_from_principal": .bool(separateFromPrincipal), "created_at": .number(createdAt),
            "deadline": .number(deadline), "state": .string(state.rawValue), "waiter_pid": .integer(Int64(waiter.pid)),
        ]
        if let answer {
            var answered: [String: JSONValue] = [
                "approver": .string(answer.approver), "reason": .string(answer.reason),
                "at": .number(answer.at),
            ]
            if let source = answer.source { answered["source"] = .string(source.rawValue) }
            if let scope = answer.scope { answered["scope"] = .string(scope.rawValue) }
            object["answer"] = .object(answered)
        }
        return .object(object)
    }
}

extension ApprovalRecord {
    /// A record read back from a backend's row, whose first eleven columns every backend selects
    /// in this order as text: id, run_id, call_id, workflow, principal, tool, arguments,
    /// arguments_sha256, rules, reasons, tags (the lists as ``listText(_:)`` wrote them).
    /// - Parameter text: reads text column `index` (named `column`), or throws ``corrupt(_:_:)``.
    /// - Throws: ``ApprovalsError`` `store` naming the first column that holds what no Airlock writes.
    public static func reading(
        text: (_ index: Int, _ column: String) throws(ApprovalsError) -> String, separateFromPrincipal: Bool,
        createdAt: Double, deadline: Double, waiter: ApprovalWaiter, state: State, answer: Answer?
    ) throws(ApprovalsError) -> ApprovalRecord {
        let id = try text(0, "id")
        return ApprovalRecord(
            id: id, runID: try text(1, "run_id"), callID: try text(2, "call_id"), workflow: try text(3, "workflow"),
            principal: try text(4, "principal"), tool: try text(5, "tool"), arguments: try text(6, "arguments"),
            argumentsSHA256: try text(7, "arguments_sha256"), rules: try list(try text(8, "rules"), id, "rules"),
            reasons: try list(try text(9, "reasons"), id, "reasons"), tags: try list(try text(10, "tags"), id, "tags"),
            separateFromPrincipal: separateFromPrincipal, createdAt: createdAt, deadline: deadline, waiter: waiter,
            state: state, answer: answer)
    }

    /// A list column as every backend stores it: a canonical JSON array of strings.
    public static func listText(_ items: [String]) -> String {
        JSONValue.array(items.map(JSONValue.string)).canonicalString
    }

    /// A list column read back.
    /// - Throws: ``ApprovalsError`` `store` naming request `id` and `column` when it is not a JSON array.
    public static func list(_ text: String, _ id: String, _ column: String) throws(ApprovalsError) -> [String] {
        guard let items = (try? JSONParser().parse(text))?.arrayValue else { throw corrupt(id, column) }
        return items.compactMap(\.stringValue)
    }

    /// A state column read back.
    /// - Throws: ``ApprovalsError`` `store` when it is not one of ``State``.
    public static func state(_ text: String, _ id: String) throws(ApprovalsError) -> State {
        guard let state = State(rawValue: text) else { throw corrupt(id, "state") }
        return state
    }

    /// The error for a column holding what no Airlock writes.
    public static func corrupt(_ id: String, _ column: String) -> ApprovalsError {
        ApprovalsError(.store, "approval request \(id): column \(column) holds a value this Airlock did not write")
    }
}
