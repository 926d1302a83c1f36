import Agent
import AirlockCore
import ArgumentParser
import Foundation
import Policy
import Replay
import Tools
import Trace

/// `airlock replay RUN [--policy NEW.yaml] | --all [--since DATE] --policy NEW.yaml`: re-drives
/// the orchestrator and the policy from a verified trace and reports the first divergence;
/// with `--policy`, lists every decision the other policy would flip.
///
/// Exit codes (docs/cli.md): 0 identical; 1 diverged; 65 the run does not verify, or the workflow
/// file is not the one recorded; 66 no such run or workflow file; 64 bad usage; 74 the trace
/// could not be read or the replay could not be driven.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract:
            "Re-drive a recorded run from its verified trace and report the first divergence; --policy for what-if.",
        discussion:
            "Exit codes: 0 identical, 1 diverged, 65 does not verify or another workflow, 66 not found (docs/replay.md)."
    )

    @Argument(help: "The run id (omit with --all).")
    var run: String?

    @Option(help: "What-if: judge every proposal under this policy file as well; list the decisions that flip.")
    var policy: String?

    @Flag(help: "Replay every stored run (with --policy: the summary table).")
    var all = false

    @Option(help: "With --all: only runs started on or after this date (YYYY-MM-DD or ISO 8601).")
    var since: String?

    @Flag(help: "Also run the executed calls again in the sandbox and compare exit status and output.")
    var reexecute = false

    @Flag(help: "With --reexecute: run each tool's current version, not the recorded one.")
    var current = false

    @Option(help: "The run's workflow file (default: WORKFLOWS/NAME.yaml for the recorded workflow name).")
    var workflow: String?

    @Option(help: "Where workflow files are found by name.")
    var workflows = "manifests/workflows"

    @Option(name: .customLong("key"), help: "A public key file to trust (repeatable; default: the local trace key).")
    var keys: [String] = []

    @OptionGroup var options: TraceOptions

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if all == (run != nil) { throw ValidationError("give either a RUN or --all") }
        if since != nil, !all { throw ValidationError("--since goes with --all") }
        if current, !reexecute { throw ValidationError("--current goes with --reexecute") }
        if all, reexecute { throw ValidationError("--reexecute replays one RUN") }
        if all, workflow != nil {
            throw ValidationError("--workflow names one run's file; with --all use --workflows DIR")
        }
    }

    func run() async throws {
        let store = try options.store(readOnly: true)
        let trusted = try TraceCLI.trustedKeys(keys)
        let whatIf = try policy.map { try PolicyFiles.loadPolicy($0) }
        let (home, registry) = try ToolsCLI.registry()
        let context: ToolRunContext
        do {
            let site = try SiteConfiguration.load(home.root.appendingPathComponent("site.yaml"))
            context = ToolRunContext(
                workspace: try ToolsCLI.workspace(home, explicit: nil, prefix: "replay"), datasets: site.datasets)
        } catch {
            throw ToolsCLI.fail(error)
        }
        defer { if let workspace = context.workspace { try? FileManager.default.removeItem(at: workspace) } }
        let replayer = Replayer(registry: registry, context: context, secrets: try SecretsCLI.broker(home))
        guard all else {
            let report: ReplayReport
            var again: Reexecution?
            do throws(ReplayError) {
                let recorded = try RecordedRun(runID: run ?? "", store: store, trustedKeys: trusted)
                report = try await replayer.replay(
                    recorded, workflow: try loadWorkflow(for: recorded), whatIf: whatIf)
                if reexecute {
                    again = try await Reexecution(
                        recorded, runner: ToolRunner(registry: registry, secrets: replayer.secrets),
                        context: context, current: current)
                }
            } catch {
                throw Self.fail(error)
            }
            if json {
                var document = report.json
                if let again, case .object(var fields) = document {
                    fields["reexecution"] = again.json
                    document = .object(fields)
                }
                TraceCLI.print(document.prettyString)
            } else {
                TraceCLI.print((report.lines + (again?.lines ?? [])).joined(separator: "\n"))
            }
            if !report.identical || again?.same == false { throw ExitCode.checkFailed }
            return
        }
        let cutoff = try since.map(Self.parseDate)
        let runs = try TraceCLI.run { () throws(TraceError) in try store.runs() }
        var summary = WhatIfSummary()
        for stored in runs where stored.workflow != ReviewVerdict.workflow {
            if let cutoff, Double(stored.startedAt) / 1e9 < cutoff { continue }
            do throws(ReplayError) {
                let recorded = try RecordedRun(runID: stored.runID, store: store, trustedKeys: trusted)
                summary.add(
                    try await replayer.replay(recorded, workflow: try loadWorkflow(for: recorded), whatIf: whatIf))
            } catch {
                summary.skipped.append("\(stored.runID): \(error)")
            }
        }
        TraceCLI.print(json ? summary.json.prettyString : summary.lines.joined(separator: "\n"))
        if !summary.diverged.isEmpty { throw ExitCode.checkFailed }
    }

    /// The workflow file for a run: `--workflow`, or the recorded name under `--workflows`.
    private func loadWorkflow(for run: RecordedRun) throws(ReplayError) -> Workflow {
        let name = run.events.first?.payload["workflow"]?.stringValue ?? ""
        let url = ToolsCLI.url(workflow ?? "\(workflows)/\(name).yaml")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ReplayError(
                .workflowMissing,
                "run \(run.runID) recorded workflow \(name); no file at \(url.path) (pass --workflow FILE or --workflows DIR)"
            )
        }
        do {
            return try Workflow.load(url)
        } catch {
            throw ReplayError(.workflowMismatch, "\(url.path): cannot be loaded", cause: error.description)
        }
    }

    /// `YYYY-MM-DD` or ISO 8601, as seconds since 1970.
    static func parseDate(_ text: String) throws -> Double {
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return date.timeIntervalSince1970 }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        if let date = day.date(from: text) { return date.timeIntervalSince1970 }
        throw ValidationError("--since \(text): expected YYYY-MM-DD or an ISO 8601 time")
    }

    /// Prints `error` and returns its exit code.
    static func fail(_ error: ReplayError) -> ExitCode {
        ToolsCLI.printError("error: \(error)")
        switch error.code {
        case .unverified, .workflowMismatch, .malformedRecord: return .dataError
        case .workflowMissing, .runNotFound: return .noInput
        case .trace, .replay: return .ioError
        }
    }
}
