import AirlockCore
import Replay
import Trace

/// The HTML of one run, from its ``RunView``: the verification banner, the facts, the verdicts
/// and the timeline in lanes, each event a `<details>` element that opens to its whole content
/// (so it reads without a script). `trace report` draws every event's content inline; the
/// console's run page draws the timeline's lines and fetches an event's content when it opens.
/// Written into one ``HTMLWriter``: no string is built per fragment.
public enum RunHTML {
    /// Where the events' contents go.
    public enum Contents {
        /// In the page, every one (`trace report`: one self-contained file).
        case inline
        /// Fetched when the event opens, from `PREFIX/SEQ` (the console's run page; its script
        /// does it, and without a script each event links there).
        case onDemand(prefix: String)
    }

    /// The run's section.
    /// - Parameters:
    ///   - view: the run.
    ///   - extra: markup placed after the verdicts (the console's verdict form); trusted, not escaped.
    ///   - contents: inline (default) or fetched on demand.
    public static func section(_ view: RunView, extra: String = "", contents: Contents = .inline) -> String {
        var out = HTMLWriter(capacity: 4096 + view.events.count * 512)
        section(view, extra: extra, contents: contents, into: &out)
        return out.string
    }

    /// Writes the run's section into `out`.
    public static func section(_ view: RunView, extra: String, contents: Contents, into out: inout HTMLWriter) {
        out.raw("<section class=\"run\" id=\"run\">\n<h1>Run ")
        out.attribute(view.summary.runID)
        out.raw("</h1>\n")
        out.raw(banner(view.verification))
        out.raw("\n<dl class=\"facts\">")
        for (name, value) in facts(view) {
            out.raw("<dt>")
            out.attribute(name)
            out.raw("</dt><dd>")
            out.attribute(value)
            out.raw("</dd>")
        }
        out.raw("</dl>\n")
        out.raw(verdicts(view.verdicts))
        out.raw(extra)
        out.raw("<h2>Timeline</h2>\n")
        out.raw(
            "<p><button type=\"button\" data-expand=\"all\" hidden>Expand all</button> <button type=\"button\" data-expand=\"none\" hidden>Collapse all</button></p>\n"
        )
        out.raw("<div class=\"lanes-head\">")
        for lane in RunView.Lane.allCases { out.raw("<span>\(lane.rawValue)</span>") }
        out.raw("</div>\n<ol class=\"timeline\">\n")
        for index in view.events.indices { event(view, at: index, contents: contents, into: &out) }
        out.raw("</ol>\n</section>\n")
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

    /// Two runs' timelines side by side, aligned by step: a step begins at each request to the
    /// model (step 0 is what came before the first), and each row holds both runs' events of that
    /// step, in lanes, each line linking to the event's content at `prefix(run)SEQ`; a row whose
    /// lines differ (types or summaries) is marked.
    public static func steps(_ a: RunView, _ b: RunView, prefix: (RunView) -> String) -> String {
        func steps(_ view: RunView) -> [[RunView.Event]] {
            var out: [[RunView.Event]] = [[]]
            for event in view.events {
                if event.entry.type == TraceEventType.modelRequest.rawValue, !(out.last?.isEmpty ?? true) {
                    out.append([])
                }
                out[out.count - 1].append(event)
            }
            return out
        }
        let (left, right) = (steps(a), steps(b))
        var out = HTMLWriter(capacity: 256 * (a.events.count + b.events.count))
        out.raw(
            "<table id=\"steps\" class=\"steps\"><thead><tr><th>step</th><th>run A</th><th>run B</th></tr></thead><tbody>\n"
        )
        for step in 0..<max(left.count, right.count) {
            let sides = [step < left.count ? left[step] : [], step < right.count ? right[step] : []]
            let lines = sides.map { $0.map { [$0.entry.type, $0.entry.summary] } }
            out.raw("<tr id=\"step-\(step)\"\(lines[0] == lines[1] ? "" : " class=\"diff-only\"")><td>\(step)</td>")
            for (side, view) in zip(sides, [a, b]) {
                out.raw("<td><ol class=\"step\">")
                for event in side {
                    out.raw("<li class=\"event lane-\(event.lane.rawValue)\">")
                    lanes(event.lane, into: &out)
                    out.raw("<a href=\"")
                    out.attribute(prefix(view) + String(event.entry.seq))
                    out.raw("\"><span class=\"seq\">#\(event.entry.seq)</span></a> <span class=\"type\">")
                    out.attribute(event.entry.type)
                    out.raw("</span> <span class=\"text\">")
                    out.text(event.entry.summary)
                    out.raw("</span></li>")
                }
                out.raw("</ol></td>")
            }
            out.raw("</tr>\n")
        }
        out.raw("</tbody></table>\n")
        return out.string
    }

    /// The lane marker: five columns, the event's filled.
    static func lanes(_ lane: RunView.Lane, into out: inout HTMLWriter) {
        out.raw("<span class=\"lanes\" title=\"\(lane.rawValue)\">")
        for each in RunView.Lane.allCases { out.raw(each == lane ? "<i class=\"on\"></i>" : "<i></i>") }
        out.raw("</span>")
    }

    /// One event: its lane marker, its one-line summary, and its content (or where to fetch it).
    static func event(_ view: RunView, at index: Int, contents: Contents, into out: inout HTMLWriter) {
        let event = view.events[index]
        let e = event.entry
        out.raw("<li class=\"event lane-\(event.lane.rawValue)\" id=\"e\(e.seq)\" data-type=\"")
        out.attribute(e.type)
        out.raw("\">")
        lanes(event.lane, into: &out)
        switch contents {
        case .inline: out.raw("<details>")
        case .onDemand(let prefix):
            out.raw("<details data-content=\"")
            out.attribute(prefix + String(e.seq))
            out.raw("\">")
        }
        out.raw("<summary><span class=\"seq\">#\(e.seq)</span> <span class=\"offset\">\(offset(e.offset))</span> ")
        out.raw("<span class=\"type\">")
        out.attribute(e.type)
        out.raw("</span> <span class=\"text\">")
        out.text(e.summary)
        out.raw("</span></summary><div class=\"body\">")
        switch contents {
        case .inline: body(view, at: index, into: &out)
        case .onDemand(let prefix):
            out.raw("<p class=\"muted\">Its content opens here (<a href=\"")
            out.attribute(prefix + String(e.seq))
            out.raw("\">or on a page of its own</a>).</p>")
        }
        out.raw("</div></details></li>\n")
    }

    /// The content of the event at `index`: its detail lines, its texts, the stored JSON, its hash.
    public static func body(_ view: RunView, at index: Int, into out: inout HTMLWriter) {
        let event = view.events[index]
        let e = event.entry
        let content = view.content(at: index)
        // A request's detail lines are its messages, all of them: its texts show the new ones.
        if !e.details.isEmpty, event.contentShown {
            out.raw("<ul class=\"details\">")
            for line in e.details {
                out.raw("<li>")
                out.text(line)
                out.raw("</li>")
            }
            out.raw("</ul>")
        }
        for text in content.texts {
            out.raw("<h4>")
            out.attribute(text.label)
            out.raw("</h4><pre>")
            out.text(text.text)
            out.raw("</pre>")
        }
        if event.contentShown {
            out.raw("<details class=\"stored\"><summary>stored event (JSON)</summary><pre>")
            out.text(content.json.prettyString)
            out.raw("</pre></details>")
        } else {
            out.raw(
                "<p class=\"muted\">The stored event is these messages (<code>trace show --json</code> prints it whole).</p>"
            )
        }
        out.raw("<p class=\"hash\">hash ")
        out.attribute(e.hash)
        out.raw("</p>")
    }
}
