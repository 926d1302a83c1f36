import Agent
import AirlockCore
import Approvals
import Console
import Foundation
import Sandbox
import Trace

/// The console's heavy pages: a 1000-step run's page, one of its events opened, and its whole
/// report, each against the same run as `trace show`'s text (all from the same bundle read
/// afresh, verification included); and the runs page over 10,000 stored runs (list, filter,
/// sort, the 100 shown verified) against listing and filtering the same runs (what `trace list`
/// reads), in alternating rounds.
struct ConsoleBench {
    /// Model steps of the long run (at most a workflow's 1000).
    var steps = 1000
    /// Runs in the store for the runs page.
    var runs = 10_000
    /// Alternating rounds.
    var rounds = 3
    /// The repository root.
    var repository: URL

    func run(scratch: URL) async throws -> [Row] {
        let directory = scratch.appendingPathComponent("console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        defer { try? FileManager.default.removeItem(at: directory) }
        let setting = try await AgentSetting(directory: directory, repository: repository, sandbox: Sandbox())
        let (store, key) = (setting.store, setting.key)
        let outcome = try await setting.recordRun(steps: steps)
        let trusted = [key.publicKey]

        // Each round draws, from the same bundle read afresh: the run as `trace show` text (the
        // anchor); the console's run page (the timeline's lines; contents fetched on opening);
        // one event opened (the run re-read and verified, a tool execution's content drawn); the
        // whole report (`trace report`: every content inline).
        func view() throws -> RunView {
            try RunView(bundle: try store.bundle(runID: outcome.runID), trustedKeys: trusted, verdicts: [])
        }
        var texts: [Double] = []
        var pages: [Double] = []
        var opened: [Double] = []
        var reports: [Double] = []
        var (pageBytes, openedBytes, reportBytes) = (0, 0, 0)
        let probe = try view()
        let executed = probe.events.indices.filter {
            probe.events[$0].entry.type == TraceEventType.toolExecuted.rawValue
        }
        let middle = executed.isEmpty ? 0 : executed[executed.count / 2]
        for _ in 0..<rounds {
            texts.append(try Stats.seconds { _ = try view().text(time: HTML.time) })
            pages.append(
                try Stats.seconds {
                    pageBytes =
                        RunHTML.section(try view(), contents: .onDemand(prefix: "/runs/\(outcome.runID)/events/"))
                        .utf8.count
                })
            opened.append(
                try Stats.seconds {
                    var out = HTMLWriter()
                    RunHTML.body(try view(), at: middle, into: &out)
                    openedBytes = out.bytes.count
                })
            reports.append(
                try Stats.seconds {
                    reportBytes = RunReport.document(try view(), generatedAt: 0, generator: "bench").utf8.count
                })
        }
        let anchor = Stats.median(texts)
        let anchorName = "the same run as trace show text"
        let timeline = Row(
            id: "console.timeline", what: "a \(outcome.steps)-step run's console page (contents open on demand)",
            figure: Stats.median(pages), unit: "s", anchor: anchor, anchorName: anchorName, comparison: .ratio,
            note: "\(pageBytes / 1024) KiB of HTML")
        let event = Row(
            id: "console.event", what: "one event of it opened (the run re-read and verified)",
            figure: Stats.median(opened), unit: "s", anchor: anchor, anchorName: anchorName, comparison: .ratio,
            note: "\(openedBytes / 1024) KiB of HTML")
        let report = Row(
            id: "console.report", what: "its whole report (trace report: every content inline)",
            figure: Stats.median(reports), unit: "s", anchor: anchor, anchorName: anchorName, comparison: .ratio,
            note: "\(reportBytes / 1024) KiB of HTML")

        // The runs page: `runs` short runs beside the long one, in a store of their own.
        let database = directory.appendingPathComponent("runs.sqlite").path
        let many = try TraceStore(path: database, configuration: .init(durable: false))
        for index in 0..<runs {
            let recorder = try RunRecorder(
                store: many, key: key, runID: "bench-\(index)",
                started: ["workflow": .string(index % 2 == 0 ? "log-triage" : "dataset-report"), "principal": "bench"])
            _ = try recorder.finish(["status": "succeeded"])
        }
        let server = try ConsoleServer(
            configuration: ConsoleConfiguration(
                address: .tcp(host: "127.0.0.1", port: 0), traceDatabase: database,
                approvals: ApprovalStore(databaseURL: directory.appendingPathComponent("approvals.sqlite")),
                trustedKeys: trusted, signingKey: key,
                auditLog: directory.appendingPathComponent("audit.jsonl").path),
            sessions: ConsoleSessions(principal: "bench") { _ in },
            audit: try ConsoleAudit(path: directory.appendingPathComponent("audit.jsonl").path))
        var listPages: [Double] = []
        var listings: [Double] = []
        var shown = 0
        for _ in 0..<rounds {
            listings.append(
                try Stats.seconds {
                    let query = RunsQuery(workflow: "log-triage")
                    shown = try many.runs().filter(query.matches).count
                })
            listPages.append(
                try Stats.seconds { _ = try server.runsPage(query: "workflow=log-triage", principal: "bench") })
        }
        let list = Row(
            id: "console.runs_page", what: "the runs page over \(runs) runs (100 shown, each verified)",
            figure: Stats.median(listPages), unit: "s", anchor: Stats.median(listings),
            anchorName: "listing and filtering the same runs", comparison: .ratio,
            note: "\(shown) runs match the filter")
        return [timeline, event, report, list]
    }
}
