import AirlockCore
import ArgumentParser
import Foundation
import Tools

/// `airlock tools …`: register, inspect, lint and test tools (see docs/tools.md).
struct ToolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools",
        abstract: "Register tool manifests and test tools in the sandbox.",
        subcommands: [
            ToolsAddCommand.self, ToolsListCommand.self, ToolsShowCommand.self, ToolsRemoveCommand.self,
            ToolsLintCommand.self, ToolsTestCommand.self, ToolsSchemaCheckCommand.self,
        ]
    )
}

/// What every `tools` subcommand shares: resolving `AIRLOCK_HOME`, reporting a ``ToolsError`` and
/// mapping it to the exit codes of `ExitCode+Airlock.swift`.
enum ToolsCLI {
    /// The registry under `AIRLOCK_HOME`.
    static func registry() throws -> (AirlockHome, ToolRegistry) {
        do {
            let home = try AirlockHome.resolve()
            return (home, ToolRegistry(home: home.root))
        } catch {
            printError("error: cannot create AIRLOCK_HOME: \(error)")
            throw ExitCode.ioError
        }
    }

    /// Prints `error` on standard error and returns the exit code for it.
    static func fail(_ error: ToolsError) -> ExitCode {
        printError("error: \(error)")
        return exitCode(for: error.code)
    }

    /// The documented exit code for each kind of failure.
    static func exitCode(for code: ToolsError.Code) -> ExitCode {
        switch code {
        case .invalidManifest, .invalidArguments, .versionConflict, .invalidPath: .dataError
        case .executableMissing, .unknownTool: .noInput
        case .digestMismatch: .checkFailed
        case .io, .registry: .ioError
        case .sandbox: .sandboxSetup
        }
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Files named on the command line, relative to the current directory.
    static func url(_ path: String) -> URL {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL
    }

    /// Any `Encodable` as a ``JSONValue`` (for `--json` output of Sandbox records).
    static func json<T: Encodable>(_ value: T) -> JSONValue {
        JSONValue.encoding(value) ?? .null
    }
}
