import Agent
import AirlockCore
import ArgumentParser
import Foundation
import MCPGateway
import Runs

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock mcp serve --profile NAME`: one MCP session over stdio, served as one run of the
/// profile's workflow (MCPGateway). stdout carries the protocol and nothing else; what a person
/// needs (the run id, an approval request, the run's end) goes to stderr.
///
/// Exit codes (docs/cli.md): 0 the client closed the session; 3 a budget was spent; 4 calls kept
/// being refused and the run ended; 5 the client kept repeating a call; 64 a malformed profile
/// name; 65 a bad profile, workflow or policy; 66 a missing profile or workflow; 74 the trace,
/// registry or transport could not be used; 130 / 143 cancelled by SIGINT / SIGTERM.
struct MCPServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a profile's tools over MCP (stdio): each session is a run in the trace.",
        discussion:
            "A profile is AIRLOCK_HOME/mcp/NAME.yaml (or a path): the workflow (tools, policy, budgets) and the principal. Exit codes: 0 session closed, 3 budget, 4 denied and ended, 65 bad profile, 66 missing profile, 74 trace or transport (docs/cli.md, docs/mcp.md)."
    )

    @Option(help: "The profile: a name under AIRLOCK_HOME/mcp/ or a path to a profile file.")
    var profile: String

    @Option(help: "The run id (default: a new UUID).")
    var runID: String?

    func run() async throws {
        // A client that goes away closes the pipe stdout writes to: a write then fails (EPIPE)
        // instead of killing the process before it has recorded the run's end.
        signal(SIGPIPE, SIG_IGN)
        let (home, _) = try ToolsCLI.registry()
        let cancellation = TaskCancellation()
        let server = try CLI.run { () throws(RunsError) in
            let resolved = try MCPProfile.resolve(
                profile, home: home.root,
                base: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
            return try MCPToolServer(
                profile: resolved, home: home, transport: "stdio", prompt: RunApprovalNotice(),
                cancellation: cancellation, runID: runID)
        }
        let task = Task { () throws(RunsError) -> AgentRunOutcome in
            try await server.serveStandardIO { event in
                if case .started(let id) = event {
                    printError("mcp: serving profile \(TerminalText.escape(server.profile.name)) as run \(id)")
                }
            }
        }
        let signals = RunSignals(
            onFirst: { signal in
                cancellation.request(RunSignals.reason(signal))
                task.cancel()
            },
            onSecond: { signal in RunSignals.exitNow(signal) })
        let outcome: AgentRunOutcome
        do {
            outcome = try await task.value
        } catch let error as RunsError {
            throw CLI.fail(error)
        }
        printError(
            "mcp: run \(outcome.runID) ended: \(outcome.status.rawValue): \(TerminalText.escape(outcome.message)) (\(outcome.executed) of \(outcome.toolCalls) calls ran, \(outcome.denied) refused)"
        )
        // A run the client cancelled by leaving (no signal) ended as the client asked: 0.
        if outcome.status == .cancelled, signals.first == nil { return }
        if let code = RunCommand.exitCode(for: outcome.status, signal: signals.first) { throw code }
    }
}
