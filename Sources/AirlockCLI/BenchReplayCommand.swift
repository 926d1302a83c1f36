import ArgumentParser
import Foundation
import Replay

/// `airlock bench replay`: replay of a long recorded run without re-execution (target ≤ 1 s).
struct BenchReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Measure the replay of a long run without re-execution (target <= 1 s).")

    @Option(help: "Model steps in the recorded run (at most 1000, a workflow's bound).")
    var steps = 1000

    @Option(help: "The repository root (for the shipped logs.search manifest and sample logs).")
    var repository = "."

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "airlock-bench-replay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        do {
            let result = try await ReplayBenchmark.run(
                directory: directory, repository: ToolsCLI.url(repository), steps: steps)
            print(result.report)
            if !result.identical { throw ExitCode.checkFailed }
        } catch let code as ExitCode {
            throw code
        } catch {
            ToolsCLI.printError("error: bench replay: \(error)")
            throw ExitCode.ioError
        }
    }
}
