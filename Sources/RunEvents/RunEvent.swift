import AirlockCore
import Trace

/// A typed event payload: its event type, and the canonical JSON it is recorded as.
public protocol RunEventPayload: Sendable, Hashable, Codable {
    /// The event type this payload is recorded under.
    static var type: TraceEventType { get }
}

extension RunEventPayload {
    /// The payload as the trace records it.
    public var json: JSONValue {
        // Every payload is made of strings, numbers, booleans and JSON values: encoding cannot fail.
        (try? JSONValueEncoder().encode(self)) ?? .object([:])
    }

    /// Decodes a recorded payload (blobs resolved).
    /// - Throws: ``RunEventError`` naming the event, the field and what is wrong.
    public static func decode(_ payload: JSONValue, seq: Int64) throws(RunEventError) -> Self {
        do {
            return try JSONValueDecoder().decode(Self.self, from: payload)
        } catch {
            throw RunEventError(seq: seq, type: type.rawValue, reason: error.description)
        }
    }
}

extension ApprovalAnswered {
    /// The event type for an answer: `approval.granted` or `approval.denied`.
    public static func type(granted: Bool) -> TraceEventType { granted ? .approvalGranted : .approvalDenied }

    /// The payload as the trace records it.
    public var json: JSONValue { (try? JSONValueEncoder().encode(self)) ?? .object([:]) }

    /// Decodes a recorded answer.
    public static func decode(_ payload: JSONValue, seq: Int64, type: String) throws(RunEventError) -> Self {
        do {
            return try JSONValueDecoder().decode(Self.self, from: payload)
        } catch {
            throw RunEventError(seq: seq, type: type, reason: error.description)
        }
    }
}

/// A recorded event whose payload is not what its type says.
public struct RunEventError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The event's sequence number.
    public var seq: Int64
    /// Its type.
    public var type: String
    /// The field and what is wrong with it.
    public var reason: String

    /// Creates an error.
    public init(seq: Int64, type: String, reason: String) {
        self.seq = seq
        self.type = type
        self.reason = reason
    }

    public var description: String { "event \(seq) (\(type)): \(reason)" }
}

/// One run event, typed.
public enum RunEvent: Sendable, Hashable {
    case started(RunStarted)
    case modelRequest(ModelRequest)
    case modelResponse(ModelResponse)
    case toolProposed(ToolProposed)
    case policyDecision(PolicyDecisionRecord)
    case approvalRequested(ApprovalRequested)
    case approvalAnswered(ApprovalAnswered, granted: Bool)
    case toolExecuted(ToolExecuted)
    case toolResult(ToolResult)
    case finished(RunFinished)
    case error(RunError)

    /// Decodes a recorded event.
    /// - Throws: ``RunEventError`` for an unknown type or a payload that does not decode.
    public init(type: String, payload: JSONValue, seq: Int64) throws(RunEventError) {
        guard let known = TraceEventType(rawValue: type) else {
            throw RunEventError(seq: seq, type: type, reason: "not a run event type")
        }
        switch known {
        case .runStarted: self = .started(try RunStarted.decode(payload, seq: seq))
        case .modelRequest: self = .modelRequest(try ModelRequest.decode(payload, seq: seq))
        case .modelResponse: self = .modelResponse(try ModelResponse.decode(payload, seq: seq))
        case .toolProposed: self = .toolProposed(try ToolProposed.decode(payload, seq: seq))
        case .policyDecision: self = .policyDecision(try PolicyDecisionRecord.decode(payload, seq: seq))
        case .approvalRequested: self = .approvalRequested(try ApprovalRequested.decode(payload, seq: seq))
        case .approvalGranted, .approvalDenied:
            self = .approvalAnswered(
                try ApprovalAnswered.decode(payload, seq: seq, type: type), granted: known == .approvalGranted)
        case .toolExecuted: self = .toolExecuted(try ToolExecuted.decode(payload, seq: seq))
        case .toolResult: self = .toolResult(try ToolResult.decode(payload, seq: seq))
        case .runFinished: self = .finished(try RunFinished.decode(payload, seq: seq))
        case .error: self = .error(try RunError.decode(payload, seq: seq))
        }
    }

    /// The call this event belongs to, if it belongs to one.
    public var callID: String? {
        switch self {
        case .toolProposed(let e): e.callID
        case .policyDecision(let e): e.callID
        case .approvalRequested(let e): e.callID
        case .approvalAnswered(let e, _): e.callID
        case .toolExecuted(let e): e.callID
        case .toolResult(let e): e.callID
        default: nil
        }
    }
}
