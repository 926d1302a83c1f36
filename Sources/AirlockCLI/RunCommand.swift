import Agent
import AirlockCore
import ArgumentParser
import Foundation
import Model
import Runs
import Synchronization
import Trace

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock run WORKFLOW`: the analyst's command. Runs a workflow with a local model, shows one
/// line per step on stderr, and ends with the final answer and the run id on stdout.
///
/// Exit codes (docs/cli.md): 0 answered; 6 the answer was degenerate (empty, or one phrase
/// repeated); 3 a budget was spent; 4 calls kept being refused and the
/// run ended; 5 the model kept repeating a call; 69 the model is unreachable or could not answer;
/// 64 bad usage (parameter, endpoint); 65 a bad workflow, policy or model script; 66 a missing
/// workflow; 74 the trace or registry could not be used; 125 the sandbox could not be set up;
/// 130 / 143 cancelled by SIGINT (Ctrl-C) / SIGTERM. With `--dry-run` (RunCommand+DryRun): 0
/// nothing in the way, 65 problems, 66 a missing workflow.
///
/// The first SIGINT or SIGTERM cancels the run's task: the model's request is abandoned, a
/// running tool is killed, and the agent records the ending (`cancelled`); a second exits at
/// once, the run left incomplete (signed through its last step).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an agent workflow: the model proposes, the policy decides, the sandbox runs, the trace records.",
        discussion:
            "Exit codes: 0 answered, 6 degenerate answer, 3 budget exhausted, 4 denied and ended, 5 repeating, 69 model unreachable, 65 bad workflow, 130/143 cancelled by Ctrl-C/SIGTERM (docs/cli.md). Ctrl-C once cancels the run and records its end; twice quits at once."
    )

    @Argument(help: "The workflow file (e.g. manifests/workflows/log-triage.yaml).")
    var workflow: String

    @Option(name: .customLong("param"), help: "K=V: a value for the workflow's task parameter K (repeatable).")
    var parameters: [String] = []

    @Option(
        help:
            "unix:PATH | http://127.0.0.1:PORT[/PATH] | script:FILE.yaml (default: the embedded model, started confined if it is not running)."
    )
    var model: String?

    @Option(
        name: .customLong("tool-calling"),
        help:
            "auto | native | constrained: how tools are offered to the model (default auto: the site's tool_calling, else constrained for the embedded default model, native for --model)."
    )
    var toolCalling = "auto"

    @Option(name: .customLong("approve"), help: "Pre-approve calls of TOOL that the policy asks about (repeatable).")
    var approve: [String] = []

    @Option(help: "Use this directory as the run's workspace (default: a new AIRLOCK_HOME/workspaces/run-…).")
    var workspace: String?

    @Option(help: "The run id (default: a new UUID).")
    var runID: String?

    @Flag(help: "Print the outcome as JSON on stdout (progress still goes to stderr).")
    var json = false

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    @Option(
        help:
            "text | json: progress on stderr as lines for people (default), or one JSON object per event (model requests, tokens as they stream, proposals, decisions, approvals, executions)."
    )
    var progress = "text"

    @Flag(
        name: .customLong("dry-run"),
        help: "Check and show what would run (tools, policy, model, budgets); start, create and record nothing.")
    var dryRun = false

    func run() async throws {
        let (home, _) = try ToolsCLI.registry()
        if dryRun { return try printDryRun(home) }
        let interactive = isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1
        let printer = RunProgressPrinter(quiet: quiet, animated: interactive, json: progress == "json")
        let constructor = RunConstructor(home: home)
        let cancellation = TaskCancellation()
        let prepared: PreparedRun
        let store: TraceStore
        let key: TraceSigningKey
        do throws(RunsError) {
            let request = RunRequest(
                workflow: ToolsCLI.url(workflow), parameters: try RunRequest.parameters(parameters),
                model: model.map(RunRequest.ModelChoice.endpoint) ?? .embedded, toolCalling: toolCalling,
                preApproved: approve, workspace: workspace.map(ToolsCLI.url), runID: runID, principal: Self.userName(),
                prompt: interactive ? RunTerminalApprover(printer: printer) : RunApprovalNotice(),
                cancellation: cancellation)
            (store, key) = try constructor.trace()
            prepared = try constructor.live(request) { line in
                if !quiet { printError("model: \(line)") }
            }
        } catch {
            throw CLI.fail(error)
        }
        let runID = Mutex<String?>(nil)
        let progress = printer.report
        let task = Task { () -> Result<AgentRunOutcome, AgentError> in
            do throws(AgentError) {
                return .success(
                    try await prepared.run(store: store, key: key) { event in
                        if case .started(let id) = event { runID.withLock { $0 = id } }
                        progress(event)
                    })
            } catch {
                return .failure(error)
            }
        }
        let signals = RunSignals(
            onFirst: { signal in
                cancellation.request(RunSignals.reason(signal))
                task.cancel()
                let run = runID.withLock { $0 }.map { "run \(TerminalText.escape($0)) " } ?? "the run "
                printer.line(
                    "\(RunSignals.name(signal)): cancelling \(run)(\(signal == SIGINT ? "Ctrl-C" : "the signal") again quits at once, leaving it incomplete)"
                )
            },
            onSecond: { signal in
                printer.restoreTerminal()
                let run = runID.withLock { $0 }.map { "run \(TerminalText.escape($0))" } ?? "the run"
                printError(
                    "\(RunSignals.name(signal)) again: quitting at once; \(run) is left incomplete, signed through its last step (`airlock trace verify`)"
                )
                RunSignals.exitNow(signal)
            })
        let result = await task.value
        let outcome: AgentRunOutcome
        switch result {
        case .success(let value): outcome = value
        case .failure(let error):
            printer.restoreTerminal()
            throw CLI.fail(error)
        }
        printer.restoreTerminal()
        report(outcome, workspace: prepared.workspace)
        if let code = Self.exitCode(for: outcome.status, signal: signals.first) { throw code }
    }

    private func report(_ outcome: AgentRunOutcome, workspace: URL?) {
        if json {
            let document: JSONValue = [
                "run_id": .string(outcome.runID), "status": .string(outcome.status.rawValue),
                "answer": outcome.answer.map(JSONValue.string) ?? .null, "message": .string(outcome.message),
                "steps": .integer(Int64(outcome.steps)), "tool_calls": .integer(Int64(outcome.toolCalls)),
                "executed": .integer(Int64(outcome.executed)), "denied": .integer(Int64(outcome.denied)),
                "workspace": workspace.map { .string($0.path) } ?? .null,
            ]
            print(document.prettyString)
            return
        }
        if let answer = outcome.answer {
            print(answer, terminator: answer.hasSuffix("\n") ? "" : "\n")
        } else {
            print("no answer: \(outcome.status.rawValue): \(outcome.message)")
        }
        print(
            "run: \(outcome.runID) (\(outcome.status.rawValue); \(outcome.steps) steps, \(outcome.executed) of \(outcome.toolCalls) calls ran, \(outcome.denied) refused)"
        )
        if let workspace { print("workspace: \(workspace.path)") }
    }

    /// The exit code for an outcome, or `nil` for success.
    /// - Parameter signal: the signal that cancelled the run, if one did (default SIGINT's code
    ///   for a run cancelled otherwise).
    static func exitCode(for status: AgentRunOutcome.Status, signal: Int32? = nil) -> ExitCode? {
        switch status {
        case .succeeded: nil
        case .degenerateAnswer: .runDegenerate
        case .budgetExhausted: .budgetExhausted
        case .denied: .runDenied
        case .repeating: .runRepeating
        case .modelUnreachable, .modelError: .modelUnavailable
        case .cancelled: ExitCode(RunSignals.exitCode(signal ?? SIGINT))
        case .failed: .sandboxSetup
        }
    }

    /// The analyst's name for the trace: `USER`, else the account name of the effective uid.
    static func userName() -> String {
        if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
        if let name = Posix.accountName(uid: geteuid()) { return name }
        return "uid\(geteuid())"
    }
}
