import ArgumentParser

/// `airlock secrets token …`: per-call tokens.
struct SecretsTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Check per-call tokens.", subcommands: [SecretsTokenVerifyCommand.self])
}
