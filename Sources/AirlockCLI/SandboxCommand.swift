import ArgumentParser

/// `airlock sandbox …`: run a program confined, and see what the host supports.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run programs confined: no network, no host files, no privileges.",
        subcommands: [SandboxRunCommand.self, SandboxProbeCommand.self]
    )
}
