import AirlockCore

/// The kinds of event a run records, with their schema (see docs/trace.md).
///
/// Schema version ``TraceEventType/schemaVersion`` names the field set below; a new field is
/// optional and keeps the version, a removed or retyped field bumps it.
public enum TraceEventType: String, Sendable, Hashable, CaseIterable, Codable {
    /// The run began: workflow, principal, policy digest, tools, model, host facts.
    case runStarted = "run.started"
    /// A request sent to the model.
    case modelRequest = "model.request"
    /// The model's answer.
    case modelResponse = "model.response"
    /// The model proposed a tool call.
    case toolProposed = "tool.proposed"
    /// The policy's decision on a proposal, with its rules and reasons.
    case policyDecision = "policy.decision"
    /// A person was asked to approve exactly these arguments.
    case approvalRequested = "approval.requested"
    /// The approval was given.
    case approvalGranted = "approval.granted"
    /// The approval was refused.
    case approvalDenied = "approval.denied"
    /// A tool ran: the full execution record with its confinement evidence.
    case toolExecuted = "tool.executed"
    /// What was fed back to the model, after caps.
    case toolResult = "tool.result"
    /// The run ended: status and final answer.
    case runFinished = "run.finished"
    /// Something failed; the stage and the message.
    case error = "error"

    /// The version of the event schemas recorded in every event as `"v"`.
    public static let schemaVersion: Int64 = 1

    /// The JSON kinds a required field may have.
    public enum FieldKind: String, Sendable {
        case string, object, array, boolean, any
    }

    /// The fields every payload of this type must carry, with their kind.
    public var requiredFields: [(name: String, kind: FieldKind)] {
        switch self {
        case .runStarted: [("workflow", .string), ("principal", .string)]
        case .modelRequest: [("model", .string)]
        case .modelResponse: [("model", .string)]
        case .toolProposed: [("call_id", .string), ("tool", .string), ("arguments", .any)]
        case .policyDecision: [("call_id", .string), ("decision", .string), ("reasons", .array)]
        case .approvalRequested: [("call_id", .string), ("arguments_sha256", .string)]
        case .approvalGranted, .approvalDenied:
            [("call_id", .string), ("approver", .string), ("arguments_sha256", .string)]
        case .toolExecuted: [("call_id", .string), ("tool", .string), ("record", .object)]
        case .toolResult: [("call_id", .string), ("content", .string)]
        case .runFinished: [("status", .string)]
        case .error: [("stage", .string), ("message", .string)]
        }
    }

    /// Checks `payload` against this type's schema.
    /// - Throws: ``TraceError`` `invalid-event` naming the type and the field.
    public func validate(_ payload: JSONValue) throws(TraceError) {
        guard let members = payload.objectValue else {
            throw TraceError(.invalidEvent, "\(rawValue): the payload must be an object, not \(payload.typeName)")
        }
        for (name, kind) in requiredFields {
            guard let value = members[name] else {
                throw TraceError(.invalidEvent, "\(rawValue): required field /\(name) is missing")
            }
            let matches: Bool
            switch kind {
            case .string: matches = value.stringValue != nil
            case .object: matches = value.objectValue != nil
            case .array: matches = value.arrayValue != nil
            case .boolean: matches = value.boolValue != nil
            case .any: matches = true
            }
            guard matches else {
                throw TraceError(
                    .invalidEvent, "\(rawValue): field /\(name) must be \(kind.rawValue), not \(value.typeName)")
            }
        }
    }
}
