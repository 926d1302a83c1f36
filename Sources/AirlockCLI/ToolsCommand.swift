import AirlockCore
import ArgumentParser
import Foundation
import Runs
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
            printError("error: cannot create AIRLOCK_HOME: \(describe(error))")
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
        case .executableMissing, .unknownTool, .secretUnavailable, .corridorUnresolved, .notFound: .noInput
        case .digestMismatch, .mcpChanged: .checkFailed
        case .mcpServer: .modelUnavailable
        case .io, .registry: .ioError
        case .sandbox: .sandboxSetup
        }
    }

    /// A Foundation file error in words (`/x/y: Not a directory (errno 20)`), not an NSError dump.
    static func describe(_ error: any Error) -> String {
        let ns = error as NSError
        let path = (ns.userInfo[NSFilePathErrorKey] as? String).map { $0 + ": " } ?? ""
        let underlying = (ns.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
        if let posix = underlying ?? (ns.domain == NSPOSIXErrorDomain ? ns : nil),
            posix.domain == NSPOSIXErrorDomain
        {
            return path + String(cString: strerror(Int32(posix.code))) + " (errno \(posix.code))"
        }
        return ns.domain == NSCocoaErrorDomain ? path + ns.localizedDescription : "\(error)"
    }

    static func printError(_ text: String) {
        // Messages quote manifests, policies and arguments: escaped for the terminal.
        FileHandle.standardError.write(Data((TerminalText.escape(text, keepsLineBreaks: true) + "\n").utf8))
    }

    /// Files named on the command line, relative to the current directory.
    static func url(_ path: String) -> URL {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL
    }

    /// A run's context: its workspace (`explicit`, relative to the current directory, or a new
    /// `AIRLOCK_HOME/workspaces/PREFIX-…`), held by the returned lease while it is kept, and the
    /// site's datasets; exits with the error's code when either cannot be had.
    static func runContext(_ home: AirlockHome, explicit: String?, prefix: String) throws -> (
        ToolRunContext, WorkspaceLease
    ) {
        try RunsCLI.run { () throws(RunsError) in
            let datasets = try home.site().datasets
            let lease = try home.claimWorkspace(explicit: explicit.map(url), prefix: prefix)
            return (ToolRunContext(workspace: lease.url, datasets: datasets), lease)
        }
    }

    /// Any `Encodable` as a ``JSONValue`` (for `--json` output of Sandbox records).
    static func json<T: Encodable>(_ value: T) -> JSONValue {
        JSONValue.encoding(value) ?? .null
    }
}
