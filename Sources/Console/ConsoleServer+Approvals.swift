import AirlockCore
import Approvals
import Foundation
import Hummingbird
import RunEvents

extension ConsoleServer {
    /// The pending queue, and answering a request: as the signed-in principal, bound to the
    /// argument digest the form showed, through the same store transaction `airlock approvals`
    /// answers with (the first answer wins; separation of duties holds there).
    func approvalRoutes(_ router: Router<ConsoleContext>) {
        router.get(
            "/approvals",
            use: signedIn { request, _, session in
                audit.record(principal: session.principal, action: "list-approvals")
                let records = try configuration.approvals.requests(includeClosed: false)
                var body = "<h1>Approvals</h1>\n"
                if let done = ConsoleRoutes.query(request)["answered"] {
                    body += "<p class=\"notice\" id=\"notice\">\(HTML.escape(done))</p>\n"
                }
                if records.isEmpty { body += "<p class=\"muted\" id=\"empty\">Nothing is waiting for an answer.</p>\n" }
                for record in records { body += approvalCard(record, session: session) }
                return ConsoleRoutes.page(.ok, ConsolePage.document(title: "Approvals", session: session, body: body))
            })
        router.post(
            "/approvals/:id",
            use: changing { _, context, session, fields in
                let id = try context.parameters.require("id")
                return answer(id, fields: fields, session: session)
            })
    }

    /// One pending request: the exact call, its digest, the rules that asked, and the form.
    func approvalCard(_ r: ApprovalRecord, session: ConsoleSessions.Session) -> String {
        let arguments = (try? JSONParser().parse(r.arguments))?.prettyString ?? r.arguments
        var out = "<section class=\"approval\" id=\"request-\(HTML.escape(r.id))\">"
        out += "<h2>\(HTML.escape(r.tool)) — request \(HTML.escape(r.id))</h2><dl class=\"facts\">"
        let facts: [(String, String)] = [
            ("run", r.runID), ("call", r.callID), ("workflow", r.workflow), ("principal", r.principal),
            ("arguments sha256", r.argumentsSHA256), ("threats", r.tags.joined(separator: " ")),
            (
                "approver",
                r.separateFromPrincipal
                    ? "someone other than \(r.principal) (the policy separates duties)"
                    : "anyone, \(r.principal) included"
            ),
            ("waits until", HTML.time(Int64(r.deadline * 1e9))),
        ]
        for (name, value) in facts { out += "<dt>\(HTML.escape(name))</dt><dd>\(HTML.escape(value))</dd>" }
        out += "</dl>"
        for (index, rule) in r.rules.enumerated() {
            out +=
                "<p><strong>\(HTML.escape(rule))</strong>: \(HTML.escape(index < r.reasons.count ? r.reasons[index] : ""))</p>"
        }
        out +=
            "<h4>arguments (exactly what runs if approved)</h4><pre class=\"arguments\">\(HTML.escape(arguments))</pre>"
        out += "<p><a href=\"/runs/\(HTML.urlComponent(r.runID))\">the run so far</a></p>"
        out += """
            <form method="post" action="/approvals/\(HTML.urlComponent(r.id))" class="answer">
            \(ConsolePage.csrfField(session))<input type="hidden" name="sha256" value="\(HTML.escape(r.argumentsSHA256))">
            <p><textarea name="reason" maxlength="\(ApprovalRecord.Answer.maxReasonBytes)" placeholder="Why (required to deny)"></textarea></p>
            <p><label>scope <select name="scope"><option value="once">once: this call only</option><option value="run">run: also later identical calls in this run</option></select></label>
            <button type="submit" name="decision" value="approve" class="approve">Approve as \(HTML.escape(session.principal))</button>
            <button type="submit" name="decision" value="deny" class="deny">Deny</button></p>
            </form></section>

            """
        return out
    }

    /// Answers request `id` from a submitted form.
    func answer(_ id: String, fields: FormFields, session: ConsoleSessions.Session) -> Response {
        func refuse(_ status: HTTPResponse.Status, _ text: String, why: String) -> Response {
            audit.record(principal: session.principal, action: "answer-refused", ["request": id, "why": why])
            return ConsoleRoutes.page(
                status, ConsolePage.message(title: "Not answered", session: session, text: text, back: "/approvals"))
        }
        let decision = fields["decision"]
        guard decision == "approve" || decision == "deny" else {
            return refuse(.badRequest, "decision: choose approve or deny", why: "usage")
        }
        let granted = decision == "approve"
        guard let digest = fields["sha256"] else {
            return refuse(.badRequest, "sha256: the form must name the arguments it approves", why: "usage")
        }
        let reason = fields.values["reason"].flatMap { $0.isEmpty ? nil : $0 }
        if let problem = ApprovalRecord.Answer.problem(reason: reason, required: !granted) {
            return refuse(.badRequest, "reason: \(problem)", why: "usage")
        }
        let scope: ApprovalAnswered.Scope? =
            granted ? fields["scope"].flatMap(ApprovalAnswered.Scope.init(rawValue:)) : nil
        if granted, scope == nil { return refuse(.badRequest, "scope: choose once or run", why: "usage") }
        let answer = ApprovalRecord.Answer(
            approver: session.principal, reason: reason ?? "approved in the console", scope: scope, source: .store,
            at: Date().timeIntervalSince1970)
        do throws(ApprovalsError) {
            switch try configuration.approvals.answer(
                id, state: granted ? .granted : .denied, answer, argumentsSHA256: digest)
            {
            case .answered(let record):
                audit.record(
                    principal: session.principal, action: granted ? "approve" : "deny",
                    ["request": id, "run": record.runID, "sha256": record.argumentsSHA256])
                let text = "\(granted ? "approved" : "denied") \(id): \(record.tool) in run \(record.runID)"
                return ConsoleRoutes.redirect("/approvals?answered=\(HTML.urlComponent(text))")
            case .closed(let record):
                let by = record.answer.map { " by \($0.approver): \($0.reason)" } ?? ""
                return refuse(
                    .conflict,
                    "approval request \(id) is no longer pending: it was \(record.state.rawValue)\(by); nothing changed",
                    why: "not-pending")
            }
        } catch {
            let status: HTTPResponse.Status =
                switch error.code {
                case .notFound: .notFound
                case .selfApproval, .notPermitted: .forbidden
                case .argumentsChanged, .notPending: .conflict
                case .invalidRequest: .badRequest
                case .store: .internalServerError
                }
            return refuse(status, error.message, why: error.code.rawValue)
        }
    }
}
