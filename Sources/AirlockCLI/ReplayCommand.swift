import Agent
import AirlockCore
import ArgumentParser
import Foundation
import MCPTools
import Policy
import Replay
import Runs
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

    @Option(
        help:
            "What-if: replay under this changed workflow file (and the policy it names) instead of the recorded one.")
    var workflow: String?

    @Option(name: .customLong("key"), help: "A public key file to trust (repeatable; default: the local trace key).")
    var keys: [String] = []

    @OptionGroup var options: TraceOptions

    @Flag(help: "Show a divergence's or a changed output's values whole, not only where they part.")
    var full = false

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if all == (run != nil) { throw ValidationError("give either a RUN or --all") }
        if since != nil, !all { throw ValidationError("--since goes with --all") }
        if current, !reexecute { throw ValidationError("--current goes with --reexecute") }
        if all, reexecute { throw ValidationError("--reexecute replays one RUN") }
        if all, workflow != nil { throw ValidationError("--workflow changes one RUN's workflow") }
    }

    func run() async throws {
        let store = try options.store(readOnly: true)
        let trusted = try TraceCLI.trustedKeys(keys)
        let whatIf = try policy.map { try PolicyFiles.loadPolicy($0) }
        let replayer = Replayer()
        var changed: Workflow?
        do throws(ReplayError) {
            changed = try workflow.map { path throws(ReplayError) in try Self.loadWorkflow(path) }
        } catch {
            throw CLI.fail(error)
        }
        guard all else {
            let report: ReplayReport
            let recorded: RecordedRun
            do throws(ReplayError) {
                recorded = try RecordedRun(runID: run ?? "", store: store, trustedKeys: trusted)
                report = try await replayer.replay(recorded, workflow: changed, whatIf: whatIf)
            } catch {
                throw CLI.fail(error)
            }
            let again = reexecute ? try await Self.reexecute(recorded, current: current) : nil
            if json {
                var document = report.json
                if let again, case .object(var fields) = document {
                    fields["reexecution"] = again.json
                    document = .object(fields)
                }
                TraceCLI.print(document.prettyString)
            } else {
                TraceCLI.print((report.lines(full: full) + (again?.lines(full: full) ?? [])).joined(separator: "\n"))
            }
            if !report.identical || again?.same == false { throw ExitCode.checkFailed }
            return
        }
        let cutoff = try since.map(Self.parseDate)
        let summary: WhatIfSummary
        do throws(ReplayError) {
            summary = try await WhatIfSummary.judging(store, trustedKeys: trusted, policy: whatIf) { stored in
                cutoff.map { Double(stored.startedAt) / 1e9 >= $0 } ?? true
            }
        } catch {
            throw CLI.fail(error)
        }
        TraceCLI.print(json ? summary.json.prettyString : summary.lines.joined(separator: "\n"))
        if !summary.diverged.isEmpty { throw ExitCode.checkFailed }
    }

    /// A changed workflow file for what-if.
    static func loadWorkflow(_ path: String) throws(ReplayError) -> Workflow {
        let url = ToolsCLI.url(path)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ReplayError(.workflowMissing, "--workflow \(path): no file at \(url.path)")
        }
        do {
            return try Workflow.load(url)
        } catch {
            throw ReplayError(.workflowMismatch, "\(url.path): cannot be loaded", cause: error)
        }
    }

    /// `--reexecute`: the executed calls run again in this home's sandbox, with its registry
    /// (the recorded versions, or with `--current` the current ones), secrets and datasets.
    static func reexecute(_ recorded: RecordedRun, current: Bool) async throws -> Reexecution {
        let (home, registry) = try ToolsCLI.registry()
        let (context, lease) = try ToolsCLI.runContext(home, explicit: nil, prefix: "replay")
        defer { try? Workspaces(home: home).discard(lease) }
        var runner = ToolRunner(registry: registry, secrets: try SecretsCLI.broker(home))
        // MCP servers' tools re-run on a fresh session of each server, stopped afterwards.
        let servers = MCPToolHost()
        runner.sessions = servers
        let result: Result<Reexecution, ReplayError>
        do throws(ReplayError) {
            result = .success(try await Reexecution(recorded, runner: runner, context: context, current: current))
        } catch {
            result = .failure(error)
        }
        await servers.shutdown()
        do {
            return try result.get()
        } catch {
            throw CLI.fail(error)
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

}
