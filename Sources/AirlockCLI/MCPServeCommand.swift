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

    @Option(help: "The run id (default: a new UUID; stdio only: over HTTP each session is a new run).")
    var runID: String?

    @Option(
        help: ArgumentHelp(
            "Serve MCP's streamable HTTP on this unix socket (unix:PATH) instead of stdio: each session is a run.",
            valueName: "unix:PATH"))
    var http: String?

    func run() async throws {
        if let http {
            guard http.hasPrefix("unix:"), http.count > 5 else {
                throw ValidationError(
                    "--http \(http): expected unix:PATH (Airlock serves MCP over HTTP on a unix socket only)")
            }
            guard runID == nil else {
                throw ValidationError("--run-id is for stdio: over HTTP each session is a new run")
            }
            return try await serveHTTP(socket: String(http.dropFirst(5)))
        }
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

    /// `--http unix:PATH`: sessions until SIGINT or SIGTERM, each a run; every open session's run is
    /// cancelled (and recorded so) when the gateway stops.
    private func serveHTTP(socket path: String) async throws {
        signal(SIGPIPE, SIG_IGN)
        let (home, _) = try ToolsCLI.registry()
        let resolved = try CLI.run { () throws(RunsError) in
            try MCPProfile.resolve(
                profile, home: home.root,
                base: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
        }
        // The profile is assembled once before listening, so that a bad one fails at once (65/66)
        // rather than at the first client's initialize.
        _ = try CLI.run { () throws(RunsError) in
            try MCPToolServer(
                profile: resolved, home: home, transport: "http", prompt: nil, cancellation: TaskCancellation())
        }
        let gateway = MCPHTTPGateway(
            makeSession: { () throws(RunsError) in
                try MCPToolServer(
                    profile: resolved, home: home, transport: "http", prompt: RunApprovalNotice(),
                    cancellation: TaskCancellation())
            },
            onEvent: { event in
                switch event {
                case .started(let session, let runID): printError("mcp: session \(session) is run \(runID)")
                case .ended(let session, let outcome):
                    printError(
                        "mcp: session \(session): run \(outcome.runID) ended: \(outcome.status.rawValue) (\(outcome.executed) of \(outcome.toolCalls) calls ran, \(outcome.denied) refused)"
                    )
                case .failed(let session, let error):
                    printError("mcp: session \(session): [\(error.codeName)] \(error)")
                }
            })
        let task = Task {
            try await gateway.run(socketPath: path) {
                printError(
                    "mcp: serving profile \(TerminalText.escape(resolved.name)) over streamable HTTP on unix:\(path)\(MCPHTTPGateway.endpoint)"
                )
            }
        }
        let signals = RunSignals(
            onFirst: { _ in task.cancel() },
            onSecond: { signal in RunSignals.exitNow(signal) })
        do {
            try await task.value
        } catch let error as RunsError {
            throw CLI.fail(error)
        } catch is CancellationError {
        } catch {
            printError("error: the MCP gateway could not serve on unix:\(path): \(error)")
            throw ExitCode.ioError
        }
        if let signal = signals.first { throw ExitCode(RunSignals.exitCode(signal)) }
    }
}
