import ArgumentParser
import Console
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
        let view = try Self.view(
            of: run, in: store, trusted: try TraceCLI.trustedKeys([]), maxInlineCharacters: full ? Int.max : 160)
        // The timeline array stays as it was for scripts; `trace list --json` carries verdicts.
        TraceCLI.print(json ? view.timeline.json.prettyString : view.text(time: TraceListCommand.iso))
    }

    /// The run as `trace show` and `trace report` present it, its verdicts included; a failure
    /// printed with its exit code.
    static func view(of run: String, in store: TraceStore, trusted: [TracePublicKey], maxInlineCharacters: Int = 160)
        throws -> RunView
    {
        let bundle = try CLI.run { () throws(TraceError) in try store.bundle(runID: run) }
        let verdicts: [ReviewVerdict]
        do throws(ReplayError) {
            verdicts = try ReviewVerdict.all(in: store, trustedKeys: trusted)[run] ?? []
        } catch {
            throw CLI.fail(error)
        }
        return try CLI.run { () throws(TraceError) in
            try RunView(
                bundle: bundle, trustedKeys: trusted, verdicts: verdicts, maxInlineCharacters: maxInlineCharacters)
        }
    }
}
