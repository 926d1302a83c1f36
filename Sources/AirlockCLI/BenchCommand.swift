import ArgumentParser

/// `airlock bench …`: the benchmarks behind the figures in docs/performance.md. Hidden from help;
/// run them from a release build through the scripts in tools/.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Airlock's hot paths (prints figures; used by tools/bench-*).",
        shouldDisplay: false,
        subcommands: [
            BenchSandboxCommand.self, BenchToolsCommand.self, BenchPolicyCommand.self, BenchTraceCommand.self,
            BenchAgentCommand.self, BenchReplayCommand.self, BenchModelCommand.self, BenchSecretsCommand.self,
        ]
    )
}
