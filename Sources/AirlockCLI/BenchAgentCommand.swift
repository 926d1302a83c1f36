import Agent
import ArgumentParser
import Foundation
import Sandbox

/// `airlock bench agent`: the agent's own overhead per tool-call step (model and tool time excluded).
struct BenchAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Measure the agent loop's overhead per tool-call step.")

    @Option(help: "Steps measured with an instant sandbox.")
    var steps = 200

    @Option(help: "Steps measured with the real sandbox (0 skips them).")
    var sandboxedSteps = 50

    @Option(help: "The repository root (for the shipped logs.search manifest and sample logs).")
    var repository = "."

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "airlock-bench-agent-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        do {
            let result = try await AgentBenchmark.run(
                directory: directory, repository: ToolsCLI.url(repository), steps: steps, sandboxedSteps: sandboxedSteps
            )
            print(result.report)
        } catch {
            ToolsCLI.printError("error: bench agent: \(error)")
            throw ExitCode.ioError
        }
    }
}
