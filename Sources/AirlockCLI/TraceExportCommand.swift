import ArgumentParser
import Foundation
import Trace

/// `airlock trace export RUN --format jsonl|otel [--output FILE]`.
struct TraceExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export a run as self-verifiable JSONL or OTLP/JSON spans.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case jsonl, otel
    }

    @OptionGroup var options: TraceOptions
    @Argument(help: "The run id.") var run: String
    @Option(name: .long, help: "jsonl (events, hashes, blobs, checkpoints) or otel (OTLP/JSON GenAI spans).")
    var format: Format = .jsonl
    @Option(name: .shortAndLong, help: "Write to this file instead of stdout.") var output: String?
    @Flag(name: .long, help: "otel: also export call arguments and results (content; off by default).")
    var content = false

    func run() async throws {
        let store = try options.store()
        let text = try CLI.run { () throws(TraceError) in
            let bundle = try store.bundle(runID: run)
            switch format {
            case .jsonl: return try TraceJSONL.export(bundle)
            case .otel: return try TraceOTel.export(bundle, includeContent: content).prettyString + "\n"
            }
        }
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8)) else {
                throw CLI.fail(TraceError(.storage, "cannot write export file \(output)"))
            }
        } else {
            TraceCLI.print(text)
        }
    }
}
