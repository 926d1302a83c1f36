import ArgumentParser
import Foundation
import Trace

/// `airlock bench trace`: durable append and verify figures, or `--append-loop DB` for the crash test.
struct BenchTraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace", abstract: "Benchmark trace appends and verification.")

    @Option(name: .long, help: "Events appended in batches.") var events = 20_000
    @Option(name: .long, help: "Events per transaction in the batch phase.") var batchSize = 100
    @Option(name: .long, help: "Single durable appends timed.") var singles = 1000
    @Option(name: .long, help: "Approximate payload bytes per event.") var payloadBytes = 512
    @Option(name: .long, help: "Directory for the benchmark database (default: a temporary one).") var directory:
        String?
    @Option(name: .long, help: "Append to DB forever (runs with checkpoints) until killed; for the crash test.")
    var appendLoop: String?

    func run() async throws {
        if let appendLoop {
            let key = try TraceCLI.signingKey()
            try TraceCLI.run { () throws(TraceError) in
                let store = try TraceStore(path: appendLoop)
                try TraceBenchmark.appendLoop(store: store, key: key)
            }
        }
        let dir = URL(fileURLWithPath: directory ?? FileManager.default.temporaryDirectory.path, isDirectory: true)
        let result = try TraceCLI.run { () throws(TraceError) in
            try TraceBenchmark.run(
                directory: dir, batchEvents: events, batchSize: batchSize, singleAppends: singles,
                payloadBytes: payloadBytes)
        }
        TraceCLI.print(result.report)
    }
}
