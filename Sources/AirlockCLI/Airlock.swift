import AirlockCore
import ArgumentParser

/// The `airlock` executable: one subcommand group per user-facing concern.
@main
struct Airlock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "airlock",
        abstract: "Run local AI agents with confined tools and a tamper-evident trace.",
        version: AirlockVersion.current,
        subcommands: [
            RunCommand.self, SandboxCommand.self, ToolsCommand.self, PolicyCommand.self, TraceCommand.self,
            ReplayCommand.self, ReviewCommand.self, ModelCommand.self, DoctorCommand.self, SecretsCommand.self,
            ApprovalsCommand.self,
        ]
    )
}
