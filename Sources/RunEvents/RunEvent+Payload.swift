import AirlockCore
import Trace

extension RunEvent {
    /// The type the event is recorded under.
    public var type: TraceEventType {
        switch self {
        case .started: RunStarted.type
        case .modelRequest: ModelRequest.type
        case .modelResponse: ModelResponse.type
        case .toolProposed: ToolProposed.type
        case .policyDecision: PolicyDecisionRecord.type
        case .approvalRequested: ApprovalRequested.type
        case .approvalAnswered(_, let granted): ApprovalAnswered.type(granted: granted)
        case .toolExecuted: ToolExecuted.type
        case .toolResult: ToolResult.type
        case .finished: RunFinished.type
        case .error: RunError.type
        }
    }

    /// The typed record encoded as the trace records it (large strings inline, not as blobs).
    public var payload: JSONValue {
        switch self {
        case .started(let e): e.json
        case .modelRequest(let e): e.json
        case .modelResponse(let e): e.json
        case .toolProposed(let e): e.json
        case .policyDecision(let e): e.json
        case .approvalRequested(let e): e.json
        case .approvalAnswered(let e, _): e.json
        case .toolExecuted(let e): e.json
        case .toolResult(let e): e.json
        case .finished(let e): e.json
        case .error(let e): e.json
        }
    }
}
