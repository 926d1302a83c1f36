import Agent
import AirlockCore
import MCP
import Runs
import Synchronization

/// Asks an approval of the MCP client's user through elicitation (`elicitation/create`, a form
/// with `approve` and `reason`), when the client declared it can, beside the home's approvals
/// queue: ``Runs/StoreApprover`` races the two and whichever answers first wins. A request the
/// policy wants approved by someone other than the principal is never elicited (the client's
/// user is the principal): it waits on the queue alone. The notice (where a person at the
/// approvals queue reads about the request) is given either way.
final class MCPElicitationPrompt: ApprovalPrompt, Sendable {
    /// Where the request is announced for the approvals queue.
    let notice: (any ApprovalPrompt)?
    /// The person the session acts for, whose answer an elicitation is.
    let principal: String
    private let session = Mutex<(server: Server?, client: String, elicits: Bool)>((nil, "mcp-client", false))

    init(notice: (any ApprovalPrompt)?, principal: String) {
        self.notice = notice
        self.principal = principal
    }

    /// The session's server and what its client said at `initialize`.
    func connect(_ server: Server, client: String, elicits: Bool) {
        session.withLock { $0 = (server, client, elicits) }
    }

    func ask(_ request: ApprovalRequest) async -> ApprovalAnswer? {
        _ = await notice?.ask(request)
        let (server, client, elicits) = session.withLock { $0 }
        guard let server, elicits, !request.separateFromPrincipal else { return nil }
        let result: CreateElicitation.Result
        do {
            result = try await server.requestElicitation(
                message: Self.message(request), requestedSchema: Self.form)
        } catch {
            // The client could not be asked: the approvals queue still can.
            return nil
        }
        let reason = result.content?["reason"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let approver = "\(principal)@\(client)"
        switch result.action {
        case .accept where result.content?["approve"]?.boolValue == true:
            return ApprovalAnswer(
                granted: true, approver: approver, reason: reason ?? "approved in the MCP client",
                identity: principal, source: .mcpElicitation)
        case .accept, .decline:
            return ApprovalAnswer(
                granted: false, approver: approver, reason: reason ?? "declined in the MCP client",
                identity: principal, source: .mcpElicitation)
        case .cancel:
            // Dismissed without an answer: the approvals queue may still answer.
            return nil
        }
    }

    func closed(_ request: ApprovalRequest, by answer: ApprovalAnswer) {
        notice?.closed(request, by: answer)
    }

    /// What the client's user reads: the call, the exact arguments, the rules and why.
    static func message(_ request: ApprovalRequest) -> String {
        var lines = ["Airlock: approve \(request.tool) (\(request.callID)) with exactly these arguments?"]
        lines.append(request.argumentsText)
        for (index, rule) in request.rules.enumerated() {
            lines.append("\(rule): \(index < request.reasons.count ? request.reasons[index] : "")")
        }
        lines.append("(Or answer request \(request.id) with `airlock approvals`.)")
        return lines.joined(separator: "\n")
    }

    /// The form asked for: approve or not, and why.
    static let form = Elicitation.RequestSchema(
        title: "Approve this call",
        properties: [
            "approve": ["type": "boolean", "title": "Approve", "description": "run this call once"],
            "reason": ["type": "string", "title": "Reason", "description": "why (recorded in the trace)"],
        ],
        required: ["approve"])
}
