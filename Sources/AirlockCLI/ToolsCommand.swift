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
        case .executableMissing, .unknownTool, .secretUnavailable, .notFound: .noInput
        case .digestMismatch: .checkFailed
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

    /// A run's context: its workspace (as ``workspace(_:explicit:prefix:)``) and the site's
    /// datasets from `site.yaml`; exits with the error's code when either cannot be had.
    static func runContext(_ home: AirlockHome, explicit: String?, prefix: String) throws -> ToolRunContext {
        do {
            let site = try SiteConfiguration.load(home.root.appendingPathComponent("site.yaml"))
            return ToolRunContext(
                workspace: try workspace(home, explicit: explicit, prefix: prefix), datasets: site.datasets)
        } catch {
            throw fail(error)
        }
    }

    /// A run's workspace: `explicit` (relative to the current directory) or a new
    /// `AIRLOCK_HOME/workspaces/PREFIX-STAMP-ID`, created with mode 0700 under a 0711 parent so
    /// that the sandbox's unprivileged user can pass through to it.
    static func workspace(_ home: AirlockHome, explicit: String?, prefix: String) throws(ToolsError) -> URL {
        let url: URL
        if let explicit {
            url = self.url(explicit)
        } else {
            let stamp = Int(Date().timeIntervalSince1970)
            url = home.workspaces.appendingPathComponent(
                "\(prefix)-\(stamp)-\(UUID().uuidString.prefix(8).lowercased())")
        }
        do {
            try FileManager.default.createDirectory(
                at: home.workspaces, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ToolsError(.io, "cannot create the workspace \(url.path)", cause: describe(error))
        }
        return url
    }

    /// Any `Encodable` as a ``JSONValue`` (for `--json` output of Sandbox records).
    static func json<T: Encodable>(_ value: T) -> JSONValue {
        JSONValue.encoding(value) ?? .null
    }
}
