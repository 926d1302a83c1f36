import AirlockCore
import ArgumentParser
import Console
import Foundation
import Replay
import Trace

/// `airlock trace list [--status S] [--workflow W] [--since DATE] [--json]`: runs with status,
/// workflow, principal, steps, start time. Columns are padded, never cut: a long status or run id
/// is printed whole.
struct TraceListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List recorded runs.")

    @OptionGroup var options: TraceOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Option(help: "Only runs with this status: incomplete, or a finished status (succeeded, denied, …).")
    var status: String?
    @Option(help: "Only runs of this workflow.") var workflow: String?
    @Option(help: "Only runs started on or after this date (YYYY-MM-DD or ISO 8601).") var since: String?

    func run() async throws {
        let store = try options.store()
        let cutoff = try since.map(ReplayCommand.parseDate)
        let query = RunsQuery(status: status, workflow: workflow, since: cutoff.map { Int64(($0 * 1e9).rounded(.up)) })
        let runs = try CLI.run { () throws(TraceError) in try store.runs() }.filter(query.matches)
        let trusted = try TraceCLI.trustedKeys([])
        let verdicts: [String: [ReviewVerdict]]
        do throws(ReplayError) {
            verdicts = try ReviewVerdict.all(in: store, trustedKeys: trusted)
        } catch {
            throw CLI.fail(error)
        }
        if json {
            TraceCLI.print(
                JSONValue.array(
                    runs.map { r in
                        [
                            "run": .string(r.runID), "status": .string(r.status), "workflow": .string(r.workflow),
                            "principal": .string(r.principal), "steps": .integer(r.steps), "calls": .integer(r.calls),
                            "events": .integer(r.events),
                            "started": .string(Self.iso(r.startedAt)),
                            "verdicts": .array((verdicts[r.runID] ?? []).map(\.json)),
                        ]
                    }
                ).prettyString)
            return
        }
        var lines = [
            "RUN                                   STATUS               WORKFLOW             PRINCIPAL        STEPS  CALLS  EVENTS  STARTED                   VERDICT"
        ]
        for r in runs {
            lines.append(
                [
                    Self.pad(r.runID, 37), Self.pad(r.status, 20), Self.pad(r.workflow, 20), Self.pad(r.principal, 16),
                    Self.pad(String(r.steps), 6), Self.pad(String(r.calls), 6), Self.pad(String(r.events), 7),
                    Self.pad(Self.iso(r.startedAt), 25),
                    Self.verdictColumn(verdicts[r.runID] ?? []),
                ].joined(separator: " "))
        }
        TraceCLI.print(lines.joined(separator: "\n"))
    }

    /// `text` padded with spaces to `width`; a longer text is kept whole (never cut).
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// `-`, or the verdicts in order (`ok`, `flag`, `ok!` for one that no longer holds).
    static func verdictColumn(_ verdicts: [ReviewVerdict]) -> String {
        verdicts.isEmpty ? "-" : verdicts.map { $0.verdict.rawValue + ($0.valid ? "" : "!") }.joined(separator: ",")
    }

    static func iso(_ nanos: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(nanos) / 1e9))
    }
}
