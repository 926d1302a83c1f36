import ArgumentParser
import Replay
import Trace

/// `airlock trace show RUN [--json]`: a readable timeline of one run, verified first: a run that
/// does not verify (or is incomplete) is shown under a banner saying so, since what it shows is
/// then not evidence.
struct TraceShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a run's timeline.")

    @OptionGroup var options: TraceOptions
    @Argument(help: "The run id.") var run: String
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Flag(name: .long, help: "Show prompts, model text, tool output and stderr whole, not clipped.") var full = false

    func run() async throws {
        let store = try options.store()
        let trusted = try TraceCLI.trustedKeys([])
        let (summary, timeline, verification) = try CLI.run { () throws(TraceError) in
            let bundle = try store.bundle(runID: run)
            return (
                bundle.summary, try TraceTimeline(bundle, maxInlineCharacters: full ? Int.max : 160),
                TraceVerifier(trustedKeys: trusted).verify(bundle)
            )
        }
        let verdicts: [ReviewVerdict]
        do throws(ReplayError) {
            verdicts = try ReviewVerdict.all(in: store, trustedKeys: trusted)[run] ?? []
        } catch {
            throw CLI.fail(error)
        }
        if json {
            // The timeline array stays as it was for scripts; `trace list --json` carries verdicts.
            TraceCLI.print(timeline.json.prettyString)
        } else {
            let reviews = verdicts.map { "verdict: \($0.summary) [\(TraceListCommand.iso($0.at))]\n" }.joined()
            let banner: String
            switch verification.status {
            case .intact: banner = "verified: \(verification.summary)\n"
            case .incomplete: banner = "!! NOT FINISHED: \(verification.summary)\n"
            case .broken:
                banner = "!! DOES NOT VERIFY — what follows is not evidence: \(verification.summary)\n"
            }
            TraceCLI.print(
                banner
                    + "run \(summary.runID): \(summary.status), workflow \(summary.workflow), principal \(summary.principal)\n"
                    + reviews + timeline.text)
        }
    }
}
