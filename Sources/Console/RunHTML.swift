import AirlockCore
import Replay
import Trace

/// The HTML of one run, from its ``RunView``: the verification banner, the facts, the verdicts
/// and the timeline in lanes, each event a `<details>` element that opens to its whole content
/// (so it reads without a script). The console's run page and `trace report` both render it.
public enum RunHTML {
    /// The run's section.
    /// - Parameters:
    ///   - view: the run.
    ///   - extra: markup placed after the verdicts (the console's verdict form); trusted, not escaped.
    public static func section(_ view: RunView, extra: String = "") -> String {
        var out = "<section class=\"run\" id=\"run\">\n"
        out += "<h1>Run \(HTML.escape(view.summary.runID))</h1>\n"
        out += banner(view.verification) + "\n"
        out += "<dl class=\"facts\">"
        for (name, value) in facts(view) {
            out += "<dt>\(HTML.escape(name))</dt><dd>\(HTML.escape(value))</dd>"
        }
        out += "</dl>\n"
        out += verdicts(view.verdicts) + extra
        out += "<h2>Timeline</h2>\n"
        out +=
            "<p><button type=\"button\" data-expand=\"all\" hidden>Expand all</button> <button type=\"button\" data-expand=\"none\" hidden>Collapse all</button></p>\n"
        out +=
            "<div class=\"lanes-head\">"
            + RunView.Lane.allCases.map { "<span>\($0.rawValue)</span>" }.joined() + "</div>\n"
        out += "<ol class=\"timeline\">\n"
        for event in view.events { out += self.event(event) }
        out += "</ol>\n</section>\n"
        return out
    }

    /// The verification as a banner a reader sees first.
    public static func banner(_ verification: RunVerification) -> String {
        let text: String
        switch verification.status {
        case .intact: text = "Verified: " + verification.summary
        case .incomplete: text = "Not finished: " + verification.summary
        case .broken: text = "DOES NOT VERIFY — what follows is not evidence: " + verification.summary
        }
        return "<p class=\"banner banner-\(verification.status.rawValue)\" id=\"verification\">\(HTML.escape(text))</p>"
    }

    /// A run's verification as a small badge (the runs list).
    public static func badge(_ status: RunVerification.Status) -> String {
        "<span class=\"badge badge-\(status.rawValue)\">\(status.rawValue)</span>"
    }

    /// The facts of the run's heading.
    static func facts(_ view: RunView) -> [(String, String)] {
        let s = view.summary
        return [
            ("status", s.status), ("workflow", s.workflow), ("principal", s.principal),
            ("started", HTML.time(s.startedAt)), ("events", "\(s.events)"), ("model steps", "\(s.steps)"),
            ("tool calls", "\(s.calls)"),
            ("signed through", "seq \(view.verification.signedThrough)"),
        ]
    }

    /// The verdicts, each with its validity.
    static func verdicts(_ verdicts: [ReviewVerdict]) -> String {
        var out = "<h2>Verdicts</h2>\n"
        guard !verdicts.isEmpty else { return out + "<p class=\"muted\" id=\"verdicts\">No verdict yet.</p>\n" }
        out += "<ul id=\"verdicts\">"
        for v in verdicts {
            out +=
                "<li class=\"verdict verdict-\(v.verdict.rawValue)\"><strong>\(v.verdict.rawValue)</strong> by "
                + "\(HTML.escape(v.reviewer)) at \(HTML.time(v.at)): \(HTML.escape(v.note))"
                + (v.valid ? "" : " <span class=\"invalid\">NOT VALID: chain broken or run changed</span>")
                + " <span class=\"hash\">\(HTML.escape(v.reviewID))</span></li>"
        }
        return out + "</ul>\n"
    }

    /// `+12.345ms`, as `trace show` writes an offset.
    static func offset(_ nanoseconds: Int64) -> String {
        let micros = nanoseconds / 1000
        return "+\(micros / 1000).\(String(micros % 1000 + 1000).dropFirst())ms"
    }

    /// One event: its lane marker, its one-line summary, and its content when opened.
    static func event(_ event: RunView.Event) -> String {
        let e = event.entry
        var out =
            "<li class=\"event lane-\(event.lane.rawValue)\" id=\"e\(e.seq)\" data-type=\"\(HTML.escape(e.type))\">"
        out +=
            "<span class=\"lanes\" title=\"\(event.lane.rawValue)\">"
            + RunView.Lane.allCases.map { $0 == event.lane ? "<i class=\"on\"></i>" : "<i></i>" }.joined() + "</span>"
        out +=
            "<details><summary><span class=\"seq\">#\(e.seq)</span> <span class=\"offset\">\(offset(e.offset))</span> "
        out +=
            "<span class=\"type\">\(HTML.escape(e.type))</span> <span class=\"text\">\(HTML.text(e.summary))</span></summary>"
        out += "<div class=\"body\">"
        // A request's detail lines are its messages, all of them: its texts show the new ones.
        if !e.details.isEmpty, event.contentShown {
            out += "<ul class=\"details\">" + e.details.map { "<li>\(HTML.text($0))</li>" }.joined() + "</ul>"
        }
        for text in event.texts {
            out += "<h4>\(HTML.escape(text.label))</h4><pre>\(HTML.text(text.text))</pre>"
        }
        if event.contentShown {
            out +=
                "<details class=\"stored\"><summary>stored event (JSON)</summary><pre>"
                + HTML.text(event.content.prettyString) + "</pre></details>"
        } else {
            out +=
                "<p class=\"muted\">The stored event is these messages (<code>trace show --json</code> prints it whole).</p>"
        }
        out += "<p class=\"hash\">hash \(HTML.escape(e.hash))</p>"
        out += "</div></details></li>\n"
        return out
    }
}
