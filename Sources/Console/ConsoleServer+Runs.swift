import AirlockCore
import Foundation
import Hummingbird
import Replay
import Trace

extension ConsoleServer {
    /// The runs list, a run's page, its report, and recording a verdict.
    func runRoutes(_ router: Router<ConsoleContext>) {
        router.get(
            "/runs",
            use: signedIn { request, _, session in
                let fields = ConsoleRoutes.query(request)
                audit.record(principal: session.principal, action: "list-runs", ["query": request.uri.query ?? ""])
                return ConsoleRoutes.page(.ok, try runsPage(fields, session: session))
            })
        router.get(
            "/runs/:id",
            use: signedIn { request, context, session in
                let id = try context.parameters.require("id")
                guard let view = try runView(id) else { return notFound(id, session: session) }
                audit.record(principal: session.principal, action: "read-run", ["run": id])
                let notice = ConsoleRoutes.query(request)["recorded"].map {
                    "<p class=\"notice\" id=\"notice\">Verdict recorded: \(HTML.escape($0))</p>"
                }
                // The timeline's lines; each event's content is fetched when it opens, unless the
                // whole page is asked for (Expand all, or a browser without the script).
                let all = ConsoleRoutes.query(request)["content"] == "all"
                let path = "/runs/\(HTML.urlComponent(id))"
                let links =
                    "<p><a href=\"\(path)/report\">Download the report (HTML)</a>"
                    + (all
                        ? ""
                        : " · <a href=\"\(path)?content=all\" id=\"content-all\">every event's content on this page</a>")
                    + "</p>"
                return ConsoleRoutes.page(
                    .ok,
                    ConsolePage.document(
                        title: "Run \(id)", session: session,
                        body: (notice ?? "") + links
                            + RunHTML.section(
                                view, extra: verdictForm(view, session: session),
                                contents: all ? .inline : .onDemand(prefix: "\(path)/events/"))))
            })
        router.get(
            "/runs/:id/events/:seq",
            use: signedIn { _, context, session in
                let id = try context.parameters.require("id")
                guard let view = try runView(id) else { return notFound(id, session: session) }
                guard let seq = context.parameters.get("seq").flatMap({ Int64($0) }),
                    let index = view.index(ofSeq: seq)
                else {
                    return ConsoleRoutes.page(
                        .notFound,
                        ConsolePage.message(
                            title: "No such event", session: session,
                            text: "run \(id) has no event \(context.parameters.get("seq") ?? "")",
                            back: "/runs/\(HTML.urlComponent(id))"))
                }
                audit.record(principal: session.principal, action: "read-event", ["run": id, "seq": String(seq)])
                return ConsoleRoutes.page(
                    .ok,
                    ConsolePage.document(
                        title: "Run \(id) event #\(seq)", session: session, body: Self.eventPage(view, at: index)))
            })
        router.get(
            "/runs/:id/report",
            use: signedIn { _, context, session in
                let id = try context.parameters.require("id")
                guard let view = try runView(id) else { return notFound(id, session: session) }
                audit.record(principal: session.principal, action: "read-run-report", ["run": id])
                let html = RunReport.document(
                    view, generatedAt: Int64(Date().timeIntervalSince1970 * 1e9),
                    generator: "airlock \(AirlockVersion.current) console")
                var response = ConsoleRoutes.page(.ok, html)
                response.headers[.contentDisposition] =
                    "attachment; filename=\"airlock-run-\(id.filter { $0.isLetter || $0.isNumber || $0 == "-" }).html\""
                return response
            })
        router.post(
            "/runs/:id/verdict",
            use: changing { _, context, session, fields in
                let id = try context.parameters.require("id")
                guard let verdict = fields["verdict"].flatMap(ReviewVerdict.Verdict.init(rawValue:)) else {
                    return ConsoleRoutes.page(
                        .badRequest,
                        ConsolePage.message(
                            title: "Verdict refused", session: session, text: "verdict: choose ok or flag",
                            back: "/runs/\(HTML.urlComponent(id))"))
                }
                do throws(ReplayError) {
                    let recorded = try ReviewVerdict.record(
                        runID: id, verdict: verdict, note: fields.values["note"] ?? "", reviewer: session.principal,
                        store: store, key: configuration.signingKey, trustedKeys: configuration.trustedKeys)
                    audit.record(
                        principal: session.principal, action: "verdict",
                        ["run": id, "verdict": verdict.rawValue, "review": recorded.reviewID])
                    return ConsoleRoutes.redirect(
                        "/runs/\(HTML.urlComponent(id))?recorded=\(HTML.urlComponent(recorded.reviewID))")
                } catch {
                    audit.record(
                        principal: session.principal, action: "verdict-refused",
                        ["run": id, "why": error.code.rawValue])
                    let status: HTTPResponse.Status =
                        switch error.code {
                        case .runNotFound: .notFound
                        case .unverified, .malformedRecord, .workflowMismatch, .workflowMissing: .unprocessableContent
                        case .trace, .replay: .internalServerError
                        }
                    let text =
                        error.code == .unverified
                        ? "run \(id) does not verify, so a verdict would vouch for a record that may have changed; nothing was recorded"
                        : error.message.replacingOccurrences(of: "--note: ", with: "note: ")
                    return ConsoleRoutes.page(
                        status,
                        ConsolePage.message(
                            title: "Verdict refused", session: session, text: text,
                            back: "/runs/\(HTML.urlComponent(id))"))
                }
            })
    }

    /// One event's page: what the run page's script puts in the event when it opens
    /// (`#event-body`, the run's banner first there unless it verifies), under the run's banner.
    static func eventPage(_ view: RunView, at index: Int) -> String {
        let e = view.events[index].entry
        let path = "/runs/\(HTML.urlComponent(view.summary.runID))"
        var out = HTMLWriter(capacity: 16 * 1024)
        out.raw("<p><a href=\"\(path)#e\(e.seq)\">Run ")
        out.text(view.summary.runID)
        out.raw("</a></p>\n<h1>Event #\(e.seq) ")
        out.text(e.type)
        out.raw("</h1>\n<p class=\"text\">")
        out.text(e.summary)
        out.raw("</p>\n<div class=\"body\" id=\"event-body\">")
        if view.verification.status != .intact { out.raw(RunHTML.banner(view.verification)) }
        RunHTML.body(view, at: index, into: &out)
        out.raw("</div>\n")
        return RunHTML.banner(view.verification) + "\n" + out.string
    }

    /// The run's view, or `nil` when there is no such run.
    func runView(_ id: String) throws -> RunView? {
        do {
            let bundle = try store.bundle(runID: id)
            let verdicts = try ReviewVerdict.all(in: store, trustedKeys: configuration.trustedKeys)[id] ?? []
            return try RunView(bundle: bundle, trustedKeys: configuration.trustedKeys, verdicts: verdicts)
        } catch let error as TraceError where error.code == .runNotFound || error.code == .invalidRunID {
            return nil
        }
    }

    func notFound(_ id: String, session: ConsoleSessions.Session) -> Response {
        ConsoleRoutes.page(
            .notFound, ConsolePage.message(title: "No such run", session: session, text: "no run \(id)", back: "/runs"))
    }

    /// The verdict form under a run's verdicts.
    func verdictForm(_ view: RunView, session: ConsoleSessions.Session) -> String {
        guard view.summary.workflow != ReviewVerdict.workflow else { return "" }
        let refused =
            view.verification.status == .broken
            ? "<p class=\"error\">This run does not verify: a verdict would be refused.</p>" : ""
        return """
            <form method="post" action="/runs/\(HTML.urlComponent(view.summary.runID))/verdict" id="verdict-form">
            \(ConsolePage.csrfField(session))\(refused)
            <p><label><input type="radio" name="verdict" value="ok" id="verdict-ok"> ok: explained and acceptable</label>
            <label><input type="radio" name="verdict" value="flag" id="verdict-flag"> flag: needs attention</label></p>
            <p><textarea name="note" id="verdict-note" maxlength="4096" placeholder="What you found (required)"></textarea></p>
            <p><button type="submit" id="verdict-submit">Record a signed verdict as \(HTML.escape(session.principal))</button></p>
            </form>
            """
    }

    /// The runs list: filters, then a page of runs, each verified as it is shown.
    func runsPage(_ fields: FormFields, session: ConsoleSessions.Session) throws -> String {
        var problems: [String] = []
        func day(_ name: String) -> Int64? {
            guard let text = fields[name] else { return nil }
            guard let value = RunsQuery.midnight(text) else {
                problems.append("\(name): \(text) is not a date (YYYY-MM-DD)")
                return nil
            }
            return value
        }
        let query = RunsQuery(
            status: fields["status"], workflow: fields["workflow"], principal: fields["principal"], since: day("from"),
            before: day("to").map { $0 + 86_400 * 1_000_000_000 })
        let all = try store.runs().filter(query.matches).sorted { $0.startedAt > $1.startedAt }
        let verdicts = try ReviewVerdict.all(in: store, trustedKeys: configuration.trustedKeys)
        let pageCount = max(1, (all.count + configuration.pageSize - 1) / configuration.pageSize)
        let page = min(max(1, fields["page"].flatMap(Int.init) ?? 1), pageCount)
        let shown = all.dropFirst((page - 1) * configuration.pageSize).prefix(configuration.pageSize)
        let verifier = TraceVerifier(trustedKeys: configuration.trustedKeys)
        func input(_ name: String, _ type: String = "text") -> String {
            "<label>\(name) <input type=\"\(type)\" name=\"\(name)\" value=\"\(HTML.escape(fields[name] ?? ""))\"></label>"
        }
        var body = "<h1>Runs</h1>\n<form method=\"get\" action=\"/runs\" class=\"inline\" id=\"filters\">"
        body += input("status") + input("workflow") + input("principal") + input("from", "date") + input("to", "date")
        body += "<button type=\"submit\">Filter</button></form>\n"
        for problem in problems { body += "<p class=\"error\">\(HTML.escape(problem))</p>" }
        body += "<p class=\"muted\" id=\"count\">\(all.count) run(s); page \(page) of \(pageCount)</p>\n"
        body +=
            "<table id=\"runs\"><thead><tr><th>verification</th><th>run</th><th>status</th><th>workflow</th><th>principal</th><th>started</th><th>steps</th><th>calls</th><th>verdicts</th></tr></thead><tbody>\n"
        for run in shown {
            let status = (try? verifier.verify(runID: run.runID, in: store))?.status ?? .broken
            let judged = (verdicts[run.runID] ?? []).map { v in
                "<span class=\"verdict-\(v.verdict.rawValue)\">\(v.verdict.rawValue)\(v.valid ? "" : "!")</span>"
            }.joined(separator: " ")
            body += "<tr><td>\(RunHTML.badge(status))</td>"
            body += "<td><a href=\"/runs/\(HTML.urlComponent(run.runID))\">\(HTML.escape(run.runID))</a></td>"
            body += "<td>\(HTML.escape(run.status))</td><td>\(HTML.escape(run.workflow))</td>"
            body += "<td>\(HTML.escape(run.principal))</td><td>\(HTML.time(run.startedAt))</td>"
            body += "<td>\(run.steps)</td><td>\(run.calls)</td><td>\(judged.isEmpty ? "-" : judged)</td></tr>\n"
        }
        body += "</tbody></table>\n"
        if pageCount > 1 {
            var others = fields.values
            body += "<p>"
            if page > 1 {
                others["page"] = String(page - 1)
                body += "<a href=\"/runs?\(Self.queryString(others))\" id=\"previous\">previous</a> "
            }
            if page < pageCount {
                others["page"] = String(page + 1)
                body += "<a href=\"/runs?\(Self.queryString(others))\" id=\"next\">next</a>"
            }
            body += "</p>"
        }
        return ConsolePage.document(title: "Runs", session: session, body: body)
    }

    /// The runs page `GET /runs?QUERY` answers a session of `principal` (the benchmarks draw it).
    /// - Throws: ``TraceError`` or ``ReplayError`` when the trace cannot be read.
    public func runsPage(query: String, principal: String) throws -> String {
        let session = ConsoleSessions.Session(
            id: "", principal: principal, uid: nil, csrf: "", created: 0, lastUsed: 0)
        return try runsPage(FormFields(query), session: session)
    }

    static func queryString(_ values: [String: String]) -> String {
        HTML.escape(
            values.keys.sorted().filter { !(values[$0] ?? "").isEmpty }.map {
                "\(HTML.urlComponent($0))=\(HTML.urlComponent(values[$0] ?? ""))"
            }.joined(separator: "&"))
    }
}
