import AirlockCore
import Foundation
import Hummingbird
import Policy
import Replay
import Trace

extension ConsoleServer {
    /// Two runs side by side with their differences (`trace diff`), and what-if: a policy judged
    /// over the stored runs, its flips in a table (`replay --all --policy`).
    func compareRoutes(_ router: Router<ConsoleContext>) {
        router.get(
            "/compare",
            use: signedIn { request, _, session in
                let fields = ConsoleRoutes.query(request)
                var body = "<h1>Compare two runs</h1>\n"
                body += """
                    <form method="get" action="/compare" class="inline" id="compare-form">
                    <label>run A <input type="text" name="a" size="40" value="\(HTML.escape(fields["a"] ?? ""))"></label>
                    <label>run B <input type="text" name="b" size="40" value="\(HTML.escape(fields["b"] ?? ""))"></label>
                    <button type="submit">Compare</button></form>

                    """
                if let a = fields["a"], let b = fields["b"] {
                    audit.record(principal: session.principal, action: "compare", ["a": a, "b": b])
                    body += try comparison(a, b)
                }
                body += whatIfForm(session, policy: "")
                return ConsoleRoutes.page(.ok, ConsolePage.document(title: "Compare", session: session, body: body))
            })
        router.post(
            "/compare/what-if",
            use: changing { _, _, session, fields in
                let text = fields.values["policy"] ?? ""
                var body = "<h1>What-if</h1>\n"
                do {
                    let policy = try Policy(yaml: text)
                    audit.record(principal: session.principal, action: "what-if", ["policy": policy.digest])
                    let summary = try await WhatIfSummary.judging(
                        store, trustedKeys: configuration.trustedKeys, policy: policy)
                    body += flipsTable(summary)
                } catch let error as PolicyError {
                    body += "<p class=\"error\" id=\"message\">policy: \(HTML.escape(error.description))</p>"
                } catch let error as ReplayError {
                    body += "<p class=\"error\" id=\"message\">\(HTML.escape(error.description))</p>"
                }
                body += whatIfForm(session, policy: text)
                return ConsoleRoutes.page(.ok, ConsolePage.document(title: "What-if", session: session, body: body))
            })
    }

    /// Both runs' facts side by side, their timelines side by side aligned by step, then every
    /// difference `trace diff` finds.
    func comparison(_ a: String, _ b: String) throws -> String {
        guard let left = try runView(a) else { return "<p class=\"error\">No run \(HTML.escape(a)).</p>" }
        guard let right = try runView(b) else { return "<p class=\"error\">No run \(HTML.escape(b)).</p>" }
        var out = "<div class=\"side-by-side\">"
        for view in [left, right] {
            out +=
                "<div><h2><a href=\"/runs/\(HTML.urlComponent(view.summary.runID))\">\(HTML.escape(view.summary.runID))</a></h2>"
            out += RunHTML.banner(view.verification) + "<dl class=\"facts\">"
            for (name, value) in RunHTML.facts(view) {
                out += "<dt>\(HTML.escape(name))</dt><dd>\(HTML.escape(value))</dd>"
            }
            out += "</dl></div>"
        }
        out += "</div>\n<h2>Step by step</h2>\n"
        out += RunHTML.steps(left, right) { "/runs/\(HTML.urlComponent($0.summary.runID))/events/" }
        out += "<h2>Differences</h2>\n"
        do throws(ReplayError) {
            let diff = try TraceDiff(
                try RecordedRun(runID: a, store: store, trustedKeys: configuration.trustedKeys),
                try RecordedRun(runID: b, store: store, trustedKeys: configuration.trustedKeys))
            out += diff.identical ? "<p class=\"notice\" id=\"identical\">No difference.</p>" : ""
            out += "<table id=\"facts-diff\"><thead><tr><th>fact</th><th>run A</th><th>run B</th></tr></thead><tbody>"
            for fact in diff.summary {
                out +=
                    "<tr\(fact.same ? "" : " class=\"diff-only\"")><td>\(HTML.escape(fact.name))</td>"
                    + "<td><pre>\(HTML.escape(fact.a.prettyString))</pre></td><td><pre>\(HTML.escape(fact.b.prettyString))</pre></td></tr>"
            }
            out += "</tbody></table>\n<pre id=\"diff\">\(HTML.escape(diff.lines().joined(separator: "\n")))</pre>\n"
        } catch {
            out += "<p class=\"error\">\(HTML.escape(error.description))</p>"
        }
        return out
    }

    func whatIfForm(_ session: ConsoleSessions.Session, policy: String) -> String {
        """
        <h2>What-if: another policy over every stored run</h2>
        <form method="post" action="/compare/what-if" id="what-if-form">
        \(ConsolePage.csrfField(session))
        <p><textarea name="policy" rows="12" placeholder="Paste a policy file (YAML)">\(HTML.escape(policy))</textarea></p>
        <p><button type="submit">Judge every run under it</button></p>
        </form>
        """
    }

    /// The what-if table: counts, then every flip with its run, call, tool and rules.
    func flipsTable(_ summary: WhatIfSummary) -> String {
        var out =
            "<p id=\"what-if-summary\">\(summary.runs) run(s), \(summary.proposals) decision(s) re-judged, "
            + "\(summary.flips.count) flip(s), \(summary.diverged.count) diverged, \(summary.skipped.count) skipped</p>\n"
        out +=
            "<table id=\"flips\"><thead><tr><th>run</th><th>call</th><th>tool</th><th>flip</th><th>recorded rules</th><th>new rules</th></tr></thead><tbody>"
        for (run, flip) in summary.flips {
            out +=
                "<tr><td><a href=\"/runs/\(HTML.urlComponent(run))\">\(HTML.escape(run))</a></td>"
                + "<td>\(HTML.escape(flip.callID))</td><td>\(HTML.escape(flip.tool))</td><td>\(HTML.escape(flip.kind))</td>"
                + "<td>\(HTML.escape(flip.fromRules.joined(separator: ", ")))</td><td>\(HTML.escape(flip.toRules.joined(separator: ", ")))</td></tr>"
        }
        out += "</tbody></table>\n<pre>\(HTML.escape(summary.lines.joined(separator: "\n")))</pre>\n"
        return out
    }
}
