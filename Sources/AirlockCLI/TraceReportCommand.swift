import AirlockCore
import ArgumentParser
import Console
import Foundation
import Trace

/// `airlock trace report RUN -o FILE`: the run as one self-contained HTML file (its timeline in
/// lanes, every event's content, the verification result), written whole or not at all.
/// Exit codes: 0 written, the run verifies; 1 written, but the run does not verify or is not
/// finished (the report says so first); 66 no such run; 74 the trace could not be read or the
/// file not written.
struct TraceReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write a run as one self-contained HTML file (no script, nothing fetched).")

    @OptionGroup var options: TraceOptions
    @Argument(help: "The run id.") var run: String
    @Option(name: [.short, .customLong("output")], help: "The HTML file to write (replaced if it exists).")
    var output: String

    func run() async throws {
        let store = try options.store(readOnly: true)
        let view = try TraceShowCommand.view(of: run, in: store, trusted: try TraceCLI.trustedKeys([]))
        let html = RunReport.document(
            view, generatedAt: Int64(Date().timeIntervalSince1970 * 1e9), generator: "airlock \(AirlockVersion.current)"
        )
        do throws(AtomicFile.Failure) {
            try AtomicFile.replace(output, with: Array(html.utf8), mode: 0o644)
        } catch {
            printError("error: cannot write the report \(output): \(error.stage): \(error.reason)")
            throw ExitCode.ioError
        }
        TraceCLI.print("wrote \(output): \(view.banner)")
        if view.verification.status != .intact { throw ExitCode.checkFailed }
    }
}
