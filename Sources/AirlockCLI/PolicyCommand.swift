import AirlockCore
import ArgumentParser
import Foundation
import Policy

/// `airlock policy …`: check one decision, run a policy's tests, lint a policy.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check, test and lint tool-call policies (see docs/policy.md).",
        subcommands: [PolicyCheckCommand.self, PolicyTestCommand.self, PolicyLintCommand.self]
    )
}

/// File reading and error reporting shared by the policy subcommands: the module does no I/O.
enum PolicyFiles {
    /// Reads a text file, or prints why not and throws the matching exit code.
    static func read(_ path: String, what: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            printError("airlock: \(what) '\(path)' does not exist")
            throw ExitCode.noInput
        }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            printError("airlock: cannot read \(what) '\(path)': \(error.localizedDescription)")
            throw ExitCode.ioError
        }
    }

    /// Reads and loads a policy file; a malformed policy prints every problem and exits 65.
    static func loadPolicy(_ path: String) throws -> Policy {
        let text = try read(path, what: "policy")
        do {
            return try Policy(yaml: text)
        } catch {
            report(error, file: path)
            throw ExitCode.dataError
        }
    }

    /// Prints every problem of `error`, prefixed with the file and line.
    static func report(_ error: PolicyError, file: String) {
        printError("airlock: \(file): \(error.code.rawValue)")
        for problem in error.problems { printError("  \(file):\(problem.line.map(String.init) ?? "-"): \(problem)") }
    }

}
