import AirlockCore
import ArgumentParser
import Foundation
import Runs

/// `airlock workspaces prune [--older-than DURATION] [--dry-run]`: removes the workspaces no run
/// holds (a run, `tools test` or `replay --reexecute` holds its workspace's lock while it lives),
/// with `--older-than` only those last used longer ago. Only directories directly under
/// `AIRLOCK_HOME/workspaces/` are removed, and nothing inside them is followed through a link.
///
/// Exit status (docs/cli.md): 0 done (workspaces in use are kept and named), 64 a malformed
/// duration, 74 a workspace could not be removed (wholly) or the directory cannot be read.
struct WorkspacesPruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Remove the workspaces no running run holds (only those older than a duration)."
    )

    @Option(
        name: .customLong("older-than"),
        help: "Only workspaces last used longer ago than this: N followed by s, m, h, d or w (e.g. 7d, 12h).")
    var olderThan: String?

    @Flag(name: .customLong("dry-run"), help: "Remove nothing; say what would be removed.")
    var dryRun = false

    @Flag(help: "Print JSON.")
    var json = false

    /// `N` + `s`, `m`, `h`, `d` or `w`, in seconds.
    static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        guard let unit = text.last.flatMap({ units[$0] }), let count = Double(text.dropLast()), count >= 0,
            count.isFinite, text.dropLast().allSatisfy({ $0.isNumber || $0 == "." })
        else { return nil }
        return count * unit
    }

    func validate() throws {
        if let olderThan, Self.seconds(olderThan) == nil {
            throw ValidationError("--older-than \(olderThan): expected a number and a unit s, m, h, d or w (e.g. 7d)")
        }
    }

    func run() async throws {
        let (_, workspaces, uses) = try WorkspacesCLI.open()
        let outcome = try CLI.run { () throws(RunsError) in
            try workspaces.prune(olderThan: olderThan.flatMap(Self.seconds), dryRun: dryRun, uses: uses)
        }
        if json {
            print(
                ([
                    "dry_run": .bool(dryRun), "removed": .array(outcome.removed.map(WorkspacesCLI.json)),
                    "in_use": .array(outcome.inUse.map(WorkspacesCLI.json)),
                    "newer": .array(outcome.newer.map(WorkspacesCLI.json)),
                    "failed": .array(
                        outcome.failed.map {
                            ["workspace": WorkspacesCLI.json($0.summary), "reason": .string($0.reason)]
                        }),
                ] as JSONValue).prettyString)
        } else {
            var lines: [String] = []
            for summary in outcome.removed {
                lines.append(
                    "\(dryRun ? "would remove" : "removed") \(summary.name) (\(summary.files) files, \(Units.bytes(summary.bytes)))"
                )
            }
            for summary in outcome.inUse {
                lines.append("kept \(summary.name): in use by \(WorkspacesCLI.holder(summary)); not removed")
            }
            for failure in outcome.failed { lines.append("FAILED \(failure.summary.name): \(failure.reason)") }
            let bytes = outcome.removed.reduce(Int64(0)) { $0 + $1.bytes }
            var summary =
                "\(dryRun ? "would prune" : "pruned") \(outcome.removed.count) workspace(s) (\(Units.bytes(bytes)))"
            if !outcome.inUse.isEmpty { summary += "; kept \(outcome.inUse.count) in use" }
            if let olderThan, !outcome.newer.isEmpty {
                summary += "; kept \(outcome.newer.count) used within \(olderThan)"
            }
            if !outcome.failed.isEmpty { summary += "; \(outcome.failed.count) could not be removed" }
            lines.append(summary)
            print(lines.joined(separator: "\n"))
        }
        if !outcome.failed.isEmpty { throw ExitCode.ioError }
    }
}
