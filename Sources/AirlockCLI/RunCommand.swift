import Agent
import AirlockCore
import ArgumentParser
import Foundation
import Model
import ModelRuntime
import Policy
import Sandbox
import Tools
import Trace

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock run WORKFLOW`: the analyst's command. Runs a workflow with a local model, shows one
/// line per step on stderr, and ends with the final answer and the run id on stdout.
///
/// Exit codes (docs/cli.md): 0 answered; 3 a budget was spent; 4 calls kept being refused and the
/// run ended; 69 the model is unreachable or could not answer; 64 bad usage (parameter, endpoint);
/// 65 a bad workflow, policy or model script; 66 a missing workflow; 74 the trace or registry
/// could not be used; 125 the sandbox could not be set up.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an agent workflow: the model proposes, the policy decides, the sandbox runs, the trace records.",
        discussion:
            "Exit codes: 0 answered, 3 budget exhausted, 4 denied and ended, 69 model unreachable, 65 bad workflow (docs/cli.md)."
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

    func run() async throws {
        let workflowURL = ToolsCLI.url(workflow)
        guard FileManager.default.fileExists(atPath: workflowURL.path) else {
            ToolsCLI.printError("error: no workflow file at \(workflowURL.path)")
            throw ExitCode.noInput
        }
        var loaded: Workflow
        let policy: Policy
        do throws(AgentError) {
            loaded = try Workflow.load(workflowURL)
            policy = try AgentLoop.loadPolicy(of: loaded)
        } catch {
            throw Self.fail(error)
        }
        for tool in approve where !loaded.tools.contains(tool) {
            ToolsCLI.printError(
                "error: --approve \(tool): not one of workflow \(loaded.name)'s tools (\(loaded.tools.joined(separator: ", ")))"
            )
            throw ExitCode.usage
        }
        var values: [String: String] = [:]
        for entry in parameters {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                ToolsCLI.printError("error: --param \(entry): expected K=V")
                throw ExitCode.usage
            }
            values[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        let (home, registry) = try ToolsCLI.registry()
        let (chatModel, modelDetails, embedded) = try makeModel(home)
        if let embedded, loaded.model.seed == nil { loaded.model.seed = embedded.sampling.seed }
        let mode = try toolCallingMode(home, embedded: embedded)
        let context: ToolRunContext
        do {
            let site = try SiteConfiguration.load(home.root.appendingPathComponent("site.yaml"))
            context = ToolRunContext(
                workspace: try ToolsCLI.workspace(home, explicit: workspace, prefix: "run"), datasets: site.datasets)
        } catch {
            throw ToolsCLI.fail(error)
        }
        let store = try TraceCLI.run { () throws(TraceError) in try TraceStore(path: home.traceDatabase.path) }
        let key = try TraceCLI.signingKey()
        let interactive = isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1
        let printer = RunProgressPrinter(quiet: quiet, animated: interactive)
        let secrets = try SecretsCLI.broker(home)
        var configuration = AgentLoop.Configuration(
            user: Self.userName(), preApproved: approve,
            approver: interactive ? RunTerminalApprover(printer: printer) : nil, runID: runID, toolCalling: mode)
        configuration.modelDetails = modelDetails
        configuration.secretRedactor = secrets?.redactor
        let loop = AgentLoop(
            workflow: loaded, policy: policy, registry: registry,
            runner: ToolRunner(registry: registry, secrets: secrets), model: chatModel, context: context,
            configuration: configuration)
        let outcome: AgentRunOutcome
        do throws(AgentError) {
            outcome = try await loop.run(parameters: values, store: store, key: key, progress: printer.report)
        } catch {
            printer.stop()
            throw Self.fail(error)
        }
        printer.stop()
        report(outcome, workspace: context.workspace)
        if let code = Self.exitCode(for: outcome.status) { throw code }
    }

    /// The model: the one `--model` names, or the embedded model (started confined in the
    /// background if it is not running). Returns it with the facts `run.started` records about it,
    /// and the embedded model's lock entry when that is the one used.
    private func makeModel(_ home: AirlockHome) throws -> (any ChatModel, [String: JSONValue], ModelLock.Model?) {
        guard let text = model else { return try embeddedModel(home) }
        do {
            let hosts = try ModelSiteConfiguration.load(home.root.appendingPathComponent("site.yaml")).modelHosts
            let endpoint = try ModelEndpoint.parse(
                text, allowedHosts: hosts, base: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            if case .script(let path) = endpoint {
                return (try ScriptedModel(contentsOf: URL(fileURLWithPath: path)), [:], nil)
            }
            return (try OpenAIChatClient(endpoint: endpoint), [:], nil)
        } catch {
            ToolsCLI.printError("error: [\(error.code.rawValue)] \(error)")
            switch error.code {
            case .endpointRefused: throw ExitCode.modelUnavailable
            case .invalidScript: throw ExitCode.dataError
            case .io: throw ExitCode.noInput
            default: throw ExitCode.usage
            }
        }
    }

    private func embeddedModel(_ home: AirlockHome) throws -> (any ChatModel, [String: JSONValue], ModelLock.Model?) {
        let store = ModelStore(root: home.modelDirectory)
        guard (try? store.installed()) != nil, let lock = try? ModelLock.load(store.lockFile) else {
            ToolsCLI.printError(
                "error: [not-installed] no --model given and no embedded model is installed in \(store.root.path): run `airlock model install` (or pass --model unix:PATH, http://127.0.0.1:PORT or script:FILE.yaml)"
            )
            throw ExitCode.modelUnavailable
        }
        let server = try ModelCLI.server(home: home, store: store, lock: lock, model: nil, settings: .init())
        let state = try ModelCLI.ensureRunning(home: home, server: server) { line in
            if !quiet { ToolsCLI.printError("model: \(line)") }
        }
        let client: OpenAIChatClient
        do {
            client = try OpenAIChatClient(endpoint: server.endpoint)
        } catch {
            ToolsCLI.printError("error: [\(error.code.rawValue)] \(error)")
            throw ExitCode.modelUnavailable
        }
        let details: [String: JSONValue] = [
            "embedded": .string(server.model.name), "model_file": .string(server.model.gguf),
            "model_sha256": .string(state.modelSHA256), "server": .string(lock.server.name),
            "server_sha256": .string(state.serverSHA256), "lock_sha256": .string(lock.digest),
            "server_network": .string(
                state.ownNetworkNamespace == true
                    ? "own namespace, interfaces: \(state.interfaces?.joined(separator: ",") ?? "?")" : "unknown"),
        ]
        return (client, details, server.model)
    }

    /// `--tool-calling`, else the site's `tool_calling`, else the lock's choice for the embedded
    /// model (constrained for the shipped one) and native for any other.
    private func toolCallingMode(_ home: AirlockHome, embedded: ModelLock.Model?) throws -> ToolCallingMode {
        do {
            let site = try ModelSiteConfiguration.load(home.root.appendingPathComponent("site.yaml"))
            return try ToolCallingMode.resolve(
                requested: toolCalling, site: site.toolCalling,
                defaultMode: embedded.map { ToolCallingMode(rawValue: $0.toolCalling) ?? .constrained } ?? .native)
        } catch {
            ToolsCLI.printError("error: [\(error.code.rawValue)] \(error)")
            throw error.code == .invalidSetting ? ExitCode.usage : ExitCode.dataError
        }
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
    static func exitCode(for status: AgentRunOutcome.Status) -> ExitCode? {
        switch status {
        case .succeeded: nil
        case .budgetExhausted: .budgetExhausted
        case .denied: .runDenied
        case .modelUnreachable, .modelError: .modelUnavailable
        case .failed: .sandboxSetup
        }
    }

    /// Prints `error` and returns its exit code.
    static func fail(_ error: AgentError) -> ExitCode {
        ToolsCLI.printError("error: [\(error.code.rawValue)] \(error)")
        switch error.code {
        case .invalidWorkflow, .invalidPolicy: return .dataError
        case .invalidParameter: return .usage
        case .io: return .noInput
        case .registry, .trace: return .ioError
        }
    }

    /// The analyst's name for the trace: `USER`, else the account name of the effective uid.
    static func userName() -> String {
        if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid\(geteuid())"
    }
}
