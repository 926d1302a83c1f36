import ArgumentParser
import Foundation
import Replay
import Trace

/// `airlock trace diff RUN_A RUN_B`: two verified runs compared (docs/replay.md): answer, status,
/// model, parameters, workflow, policy and tools, then every differing field of every event pair,
/// calls aligned by tool and arguments. Exit 0 no difference, 1 differences, 65 a run does not
/// verify, 66 no such run.
struct TraceDiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Compare two runs: their setup, their answer and every event that differs.")

    @Argument(help: "Run A.") var runA: String
    @Argument(help: "Run B.") var runB: String
    @Option(name: .customLong("key"), help: "A public key file to trust (repeatable; default: the local trace key).")
    var keys: [String] = []
    @OptionGroup var options: TraceOptions
    @Flag(name: .long, help: "Print JSON (every value whole).") var json = false
    @Flag(name: .long, help: "Print every value whole instead of the region where long values differ.")
    var full = false

    func run() async throws {
        let store = try options.store(readOnly: true)
        let trusted = try TraceCLI.trustedKeys(keys)
        let diff: TraceDiff
        do throws(ReplayError) {
            diff = try TraceDiff(
                try RecordedRun(runID: runA, store: store, trustedKeys: trusted),
                try RecordedRun(runID: runB, store: store, trustedKeys: trusted))
        } catch {
            throw CLI.fail(error)
        }
        TraceCLI.print(json ? diff.json.prettyString : diff.lines(full: full).joined(separator: "\n"))
        if !diff.identical { throw ExitCode.checkFailed }
    }
}
