import AirlockCore
import ArgumentParser
import Foundation
import Replay
import Trace

/// `airlock review RUN --verdict ok|flag --note TEXT`: a reviewer's signed verdict, appended as a
/// chain of its own that references the run's head hash (the run's chain is never changed).
/// Exit codes: 0 recorded; 65 the run does not verify; 66 no such run; 64 bad usage; 74 the
/// trace could not be written.
struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "Record a reviewer's signed verdict on a run (shown by trace show/list).")

    @Argument(help: "The run id.") var run: String
    @Option(help: "ok | flag") var verdict: String
    @Option(help: "What the reviewer found (1 to 4096 bytes).") var note: String
    @Option(help: "Who reviews (default: the current user).") var reviewer: String?
    @OptionGroup var options: TraceOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
        guard ReviewVerdict.Verdict(rawValue: verdict) != nil else {
            throw ValidationError("--verdict \(verdict): expected ok or flag")
        }
    }

    func run() async throws {
        let store = try options.store()
        let key = try TraceCLI.signingKey()
        let trusted = try TraceCLI.trustedKeys([])
        let recorded: ReviewVerdict
        do throws(ReplayError) {
            recorded = try ReviewVerdict.record(
                runID: run, verdict: ReviewVerdict.Verdict(rawValue: verdict) ?? .flag, note: note,
                reviewer: reviewer ?? RunCommand.userName(), store: store, key: key,
                trustedKeys: trusted)
        } catch {
            var error = error
            if error.code == .unverified {
                error.message =
                    "run \(run) does not verify, so a verdict would vouch for a record that may have changed; review refused (run `airlock trace verify \(run)`)"
            }
            throw CLI.fail(error)
        }
        TraceCLI.print(
            json
                ? recorded.json.prettyString
                : "review \(recorded.reviewID): \(recorded.summary) on run \(run) at head \(recorded.head.prefix(16))…")
    }
}
