import AirlockCore
import ArgumentParser
import Foundation
import Replay
import Trace

/// `airlock trace list [--json]`: runs with status, workflow, principal, steps, start time.
struct TraceListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List recorded runs.")

    @OptionGroup var options: TraceOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let store = try options.store()
        let runs = try TraceCLI.run { () throws(TraceError) in try store.runs() }
            .filter { $0.workflow != ReviewVerdict.workflow }
        let trusted = try TraceCLI.trustedKeys([])
        let verdicts: [String: [ReviewVerdict]]
        do throws(ReplayError) {
            verdicts = try ReviewVerdict.all(in: store, trustedKeys: trusted)
        } catch {
            throw ReplayCommand.fail(error)
        }
        if json {
            TraceCLI.print(
                JSONValue.array(
                    runs.map { r in
                        [
                            "run": .string(r.runID), "status": .string(r.status), "workflow": .string(r.workflow),
                            "principal": .string(r.principal), "steps": .integer(r.steps), "events": .integer(r.events),
                            "started": .string(Self.iso(r.startedAt)),
                            "verdicts": .array((verdicts[r.runID] ?? []).map(\.json)),
                        ]
                    }
                ).prettyString)
            return
        }
        var lines = [
            "RUN                                   STATUS               WORKFLOW             PRINCIPAL        STEPS  EVENTS  STARTED                   VERDICT"
        ]
        for r in runs {
            lines.append(
                [
                    r.runID.padding(toLength: 37, withPad: " ", startingAt: 0),
                    r.status.padding(toLength: 20, withPad: " ", startingAt: 0),
                    r.workflow.padding(toLength: 20, withPad: " ", startingAt: 0),
                    r.principal.padding(toLength: 16, withPad: " ", startingAt: 0),
                    String(r.steps).padding(toLength: 6, withPad: " ", startingAt: 0),
                    String(r.events).padding(toLength: 7, withPad: " ", startingAt: 0),
                    Self.iso(r.startedAt).padding(toLength: 25, withPad: " ", startingAt: 0),
                    Self.verdictColumn(verdicts[r.runID] ?? []),
                ].joined(separator: " "))
        }
        TraceCLI.print(lines.joined(separator: "\n"))
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
