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
        await main(arguments)
    }
}
