import AirlockCore
import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

/// The `airlock` executable: one subcommand group per user-facing concern.
@main
struct Airlock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "airlock",
        abstract: "Run local AI agents with confined tools and a tamper-evident trace.",
        version: AirlockVersion.current,
        subcommands: [
            RunCommand.self, EvalCommand.self, WorkflowCommand.self, WorkspacesCommand.self, SandboxCommand.self,
            ToolsCommand.self,
            PolicyCommand.self, TraceCommand.self,
            ReplayCommand.self, ReviewCommand.self, ModelCommand.self, DoctorCommand.self, SecretsCommand.self,
            ApprovalsCommand.self, MCPCommand.self, ConsoleCommand.self, DbCommand.self, SubmitCommand.self,
            WorkerCommand.self,
            RunsCommand.self,
        ]
    )

    /// `airlock --version` answers before the parser builds the command tree (which reflects over
    /// every subcommand's options): scripts and hooks ask it per use. Everything else parses.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments == ["--version"] {
            // Not print(_:): its dynamic casts scan every protocol conformance in the binary.
            let line = Array((AirlockVersion.current + "\n").utf8)
            _ = write(1, line, line.count)
            return
        }
        if arguments.starts(with: ["sandbox", "run"]) {
            await sandboxRun(arguments)
            return
        }
        await main(arguments)
    }

    /// `airlock sandbox run …`, started per use by hooks and scripts, is parsed against its own
    /// command rather than the whole tree: building the tree reflects over every subcommand's
    /// options, and each first conformance lookup scans all of the binary's conformance records.
    /// Anything that does not parse there (a mistake, `--help`) is parsed again by the whole
    /// tree, so that every message and exit code is the one `main` gives.
    static func sandboxRun(_ arguments: [String]) async {
        var command: SandboxRunCommand
        do {
            command = try SandboxRunCommand.parse(Array(arguments.dropFirst(2)))
        } catch {
            await main(arguments)
            return
        }
        do {
            try await command.run()
        } catch {
            exit(withError: error)
        }
    }
}
