import ArgumentParser
import Foundation
import Model
import ModelRuntime

/// `airlock bench model`: the model client's overhead against the server's own timings.
struct BenchModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Time requests through Airlock's client against llama-server's own timings (target: overhead <= 5%)."
    )

    @Option(help: "Timed requests.")
    var requests = 10

    @Option(help: "Tokens generated per request.")
    var maxTokens = 128

    @Option(help: "CPU threads for the server, if the benchmark starts it.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() async throws {
        let (home, store) = try ModelCLI.home()
        let lock = try ModelCLI.lock(explicit: nil, store: store)
        let server = try ModelCLI.server(
            home: home, store: store, lock: lock, model: nil, settings: .init(threads: threads))
        let state = try ModelCLI.ensureRunning(home: home, server: server) { print("model: \($0)") }
        let figures: ModelBenchmark.Figures
        do {
            figures = try await ModelBenchmark(
                client: try OpenAIChatClient(endpoint: server.endpoint), requests: requests, maxTokens: maxTokens
            ).run()
        } catch {
            ToolsCLI.printError("error: [\(error.code.rawValue)] \(error)")
            throw ExitCode.modelUnavailable
        }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        print(
            "model \(state.model) (server pid \(state.serverPID.map(String.init) ?? "?"), confined), \(requests) requests of \(maxTokens) tokens, medians:"
        )
        print(
            "  through airlock's client   \(f(figures.clientMilliseconds)) ms/request   \(f(figures.clientTokensPerSecond)) tokens/s"
        )
        print(
            "  server's own timings       \(f(figures.serverMilliseconds)) ms/request   \(f(figures.serverTokensPerSecond)) tokens/s"
        )
        print("  client overhead            \(String(format: "%.2f", figures.overheadPercent)) %   (target <= 5 %)")
        print(figures.overheadPercent <= 5 ? "  target met" : "  TARGET MISSED")
    }
}
