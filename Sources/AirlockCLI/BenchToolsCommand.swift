import ArgumentParser
import Foundation
import Sandbox
import Tools

/// `airlock bench tools`: what Tools costs per call before and around the sandbox.
struct BenchToolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools", abstract: "Measure manifest decode, validation, argv, registry and a sandboxed run.")

    @Option(help: "Repetitions of each in-process measurement.")
    var iterations = 2000

    @Option(help: "Complete sandboxed runs (0 skips them).")
    var sandboxRuns = 20

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "airlock-bench-tools-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            let result = try await ToolsBenchmark.run(
                directory: directory, iterations: iterations, sandboxRuns: sandboxRuns, sandbox: Sandbox())
            print(result.report)
        } catch let error as ToolsError {
            throw ToolsCLI.fail(error)
        }
    }
}
