import Agent
import AirlockCore
import Foundation
import MCPTools
import Model
import ModelRuntime
import RunEvents
import Secrets
import Tools
import Trace
import TracePostgres

/// The one way a run is assembled, for every front door: `airlock run` today, the console, MCP
/// and workers later. A live run is built from a ``RunRequest`` and the home (workflow, policy,
/// site, registry, secrets, the model and its lifecycle); a recorded run from the trace alone
/// (``recorded(runID:started:events:times:workflow:decisionObserver:)``), which is what replay
/// re-drives. Both end in the same ``AgentLoop`` initialiser, so a setup a live run records is
/// exactly the setup a replay rebuilds.
///
/// Nothing is recorded while a run is assembled: every failure here is a ``RunsError`` before
/// the first event, and the trace holds only runs that started.
public struct RunConstructor: Sendable {
    /// The home runs are assembled from.
    public let home: AirlockHome

    /// Creates a constructor over `home`.
    public init(home: AirlockHome) {
        self.home = home
    }

    /// Assembles a live run.
    /// - Parameters:
    ///   - request: what to run.
    ///   - announce: told about slow preparation (the embedded model server being started).
    /// - Returns: the ready run; nothing has been recorded yet.
    /// - Throws: ``RunsError`` naming the stage: `not-found` (workflow, script), `invalid-input`
    ///   (workflow, policy, script, site), `usage` (pre-approval, tool calling, endpoint),
    ///   `model-unavailable`, `state`.
    public func live(_ request: RunRequest, announce: (String) -> Void = { _ in }) throws(RunsError) -> PreparedRun {
        guard FileManager.default.fileExists(atPath: request.workflow.path) else {
            throw RunsError(.notFound, "no workflow file at \(request.workflow.path)")
        }
        var workflow: Workflow
        let policy: PolicyDocument
        do throws(AgentError) {
            workflow = try Workflow.load(request.workflow)
            policy = try PolicyDocument.load(of: workflow)
        } catch {
            throw RunsError(error.code == .io ? .notFound : .invalidInput, "[\(error.code.rawValue)] \(error)")
        }
        for tool in request.preApproved where !workflow.tools.contains(tool) {
            throw RunsError(
                .usage,
                "--approve \(tool): not one of workflow \(workflow.name)'s tools (\(workflow.tools.joined(separator: ", ")))"
            )
        }
        let site = try home.site()
        // The workflow is valid from here on: a model that cannot be had is the run's first
        // failure, recorded, not an error before it.
        let modelLease = request.driver == nil ? try self.modelLease(request) : nil
        let model: ChosenModel
        if let driver = request.driver {
            model = ChosenModel(client: driver)
        } else {
            do {
                model = try self.model(request, site: site, announce: announce)
            } catch  where error.code == .modelUnavailable {
                model = ChosenModel(client: Self.unavailable(request, error, home: home))
            }
        }
        if let embedded = model.lockEntry, workflow.model.seed == nil { workflow.model.seed = embedded.sampling.seed }
        let mode: ToolCallingMode
        do {
            mode = try ToolCallingMode.resolve(
                requested: request.driver == nil ? request.toolCalling : ToolCallingMode.native.rawValue,
                site: site.toolCalling,
                defaultMode: model.lockEntry.map { ToolCallingMode(rawValue: $0.toolCalling) ?? .constrained }
                    ?? (request.model == .embedded ? .constrained : .native))
        } catch {
            throw RunsError(.usage, "--tool-calling", cause: error)
        }
        // The store chosen the way the trace is (site.yaml `trace:`): a worker's run waits on the
        // site's shared database, answered from any host.
        let approver: any Approver
        if let given = request.approver {
            approver = given
        } else {
            approver = StoreApprover(store: try home.approvals(), prompt: request.prompt)
        }
        let lease = try home.claimWorkspace(explicit: request.workspace, prefix: "run")
        let context = ToolRunContext(workspace: lease.url, datasets: site.datasets)
        let secrets = try secretBroker()
        var configuration = AgentLoop.Configuration(
            user: request.principal, preApproved: request.preApproved, approver: approver,
            runID: request.runID, toolCalling: mode)
        configuration.embedded = model.facts
        // The embedded server has one slot (`-np 1`): the run's steps keep its cache warm.
        configuration.promptCache = model.facts != nil
        configuration.secretRedactor = secrets?.redactor
        if let cancellation = request.cancellation { configuration.cancellation = cancellation }
        let registry = ToolRegistry(home: home.root)
        var runner = ToolRunner(registry: registry, secrets: secrets)
        runner.internalHosts = site.internalHosts
        // The run's MCP servers: each started confined at its first call, stopped with the run
        // (which its wall budget bounds, and so their lives).
        let servers = MCPToolHost(sessionSeconds: workflow.budgets.wallSeconds + MCPToolHost.stopGraceSeconds)
        runner.sessions = servers
        let loop = AgentLoop(
            workflow: workflow, policy: policy, catalog: RegistryCatalog(registry: registry),
            steps: runner, model: model.client, context: context,
            configuration: configuration)
        return PreparedRun(
            loop: loop, parameters: request.parameters, modelLease: modelLease, workspaceLease: lease,
            servers: servers)
    }

    /// A lease on the home's background model server for the run's life, when it uses the
    /// embedded model (so an idle server is not stopped under it).
    private func modelLease(_ request: RunRequest) throws(RunsError) -> FileLock? {
        guard request.model == .embedded else { return nil }
        do {
            return try home.modelBackground.lease()
        } catch {
            throw RunsError(.state, "[\(error.code.rawValue)] \(error)")
        }
    }

    /// The stand-in for a model that could not be had: named as the run would have named it.
    static func unavailable(_ request: RunRequest, _ error: RunsError, home: AirlockHome) -> UnavailableModel {
        let name: String
        switch request.model {
        case .embedded:
            name = "openai:unix:" + home.modelRuntime.appendingPathComponent(ModelServer.defaultSocketName).path
        case .endpoint(let text):
            name = text.hasPrefix("script:") ? text : "openai:" + text
        }
        let code: ModelError.Code = error.message.hasPrefix("[endpoint-refused]") ? .endpointRefused : .unreachable
        return UnavailableModel(
            name: name, kind: "openai-compatible", error: ModelError(code, error.message, cause: error.cause))
    }

    /// The trace live runs are recorded in (`site.yaml` `trace:`, default the home's
    /// `trace.sqlite`) and the home's signing key.
    /// - Throws: ``RunsError`` `state`.
    public func trace() throws(RunsError) -> (TraceStore, TraceSigningKey) {
        let location = try home.site().trace ?? home.traceDatabase.path
        do {
            return (
                try TraceLocation(location).open(), try TraceSigningKey.loadOrCreate(directory: home.keys)
            )
        } catch {
            throw RunsError(.state, "the trace in \(home.root.path) cannot be used", cause: error)
        }
    }

    /// The home's secret broker, or `nil` when no secret was ever stored.
    /// - Throws: ``RunsError`` `invalid-input` when the store or a key is corrupt, `state` when
    ///   they cannot be read or have unsafe permissions.
    public func secretBroker() throws(RunsError) -> SecretBroker? {
        let store = SecretStore(home: home.root)
        guard FileManager.default.fileExists(atPath: store.storeURL.path) else { return nil }
        do {
            return try SecretBroker(store: store, keysDirectory: home.keys)
        } catch {
            let code: RunsError.Code = error.code == .corrupt || error.code == .keyInvalid ? .invalidInput : .state
            throw RunsError(code, "the secret store cannot be opened", cause: error)
        }
    }

    /// The model a request names, with what `run.started` records about it.
    struct ChosenModel {
        var client: any ChatModel
        /// The embedded model's recorded facts, when it is the one used.
        var facts: RunStarted.Embedded?
        /// The embedded model's lock entry, when it is the one used.
        var lockEntry: ModelLock.Model?
    }

    /// The model a request names, found without starting or asking anything: the embedded
    /// model's server (from its lock, once it is installed), or a client for an endpoint (through
    /// the site's air-gap rule), or a scripted model (its file read).
    enum ModelSelection {
        /// The embedded model, served by the home's background server.
        case embedded(ModelServer, ModelLock)
        /// An endpoint's client, or a scripted model.
        case client(any ChatModel)
    }

    /// Selects the model `request` names (what a dry run reports and a live run starts).
    /// - Throws: ``RunsError`` `model-unavailable` (not installed, refused by the air-gap rule),
    ///   `invalid-input` (a bad script), `not-found` (no script file), `usage` (a malformed endpoint).
    func selectModel(_ request: RunRequest, site: SiteConfiguration) throws(RunsError) -> ModelSelection {
        guard case .endpoint(let text) = request.model else {
            let store = home.modelStore
            guard (try? store.installed()) != nil, let lock = try? ModelLock.load(store.lockFile) else {
                throw RunsError(
                    .modelUnavailable,
                    "[not-installed] no --model given and no embedded model is installed in \(store.root.path): run `airlock model install` (or pass --model unix:PATH, http://127.0.0.1:PORT or script:FILE.yaml)"
                )
            }
            let settings = ModelServer.Settings(
                idleSeconds: site.modelIdleSeconds ?? ModelBackground.defaultIdleSeconds)
            return .embedded(
                ModelServer(
                    store: store, lock: lock, model: lock.defaultModel, runtimeDirectory: home.modelRuntime,
                    settings: settings),
                lock)
        }
        do {
            let endpoint = try ModelEndpoint.parse(text, allowedHosts: site.modelHosts, base: request.base)
            if case .script(let path) = endpoint {
                return .client(try ScriptedModel(contentsOf: URL(fileURLWithPath: path)))
            }
            return .client(try OpenAIChatClient(endpoint: endpoint))
        } catch {
            let code: RunsError.Code =
                switch error.code {
                case .endpointRefused: .modelUnavailable
                case .invalidScript: .invalidInput
                case .io: .notFound
                default: .usage
                }
            throw RunsError(code, "[\(error.code.rawValue)] \(error)")
        }
    }

    private func model(_ request: RunRequest, site: SiteConfiguration, announce: (String) -> Void) throws(RunsError)
        -> ChosenModel
    {
        switch try selectModel(request, site: site) {
        case .client(let client): return ChosenModel(client: client)
        case .embedded(let server, let lock): return try embedded(server, lock: lock, announce: announce)
        }
    }

    /// The embedded model: the lock's default, served confined by the home's background server
    /// (started when none answers), its artefacts re-hashed against their pins before a start.
    private func embedded(_ server: ModelServer, lock: ModelLock, announce: (String) -> Void) throws(RunsError)
        -> ChosenModel
    {
        let state: ModelServerState
        let client: OpenAIChatClient
        do {
            state = try home.modelBackground.ensureRunning(server, announce: announce)
            client = try OpenAIChatClient(endpoint: server.endpoint)
        } catch let error as ModelRuntimeError {
            throw RunsError(.modelUnavailable, "[\(error.code.rawValue)] \(error)")
        } catch {
            throw RunsError(.modelUnavailable, "the embedded model cannot be reached", cause: error)
        }
        let facts = RunStarted.Embedded(
            name: server.model.name, modelFile: server.model.gguf, modelSHA256: state.modelSHA256,
            server: lock.server.name, serverSHA256: state.serverSHA256, lockSHA256: lock.digest,
            serverNetwork: state.ownNetworkNamespace == true
                ? "own namespace, interfaces: \(state.interfaces?.joined(separator: ",") ?? "?")" : "unknown")
        return ChosenModel(client: client, facts: facts, lockEntry: server.model)
    }
}

extension RunConstructor.ChosenModel {
    init(client: any ChatModel) {
        self.init(client: client, facts: nil, lockEntry: nil)
    }
}

/// An assembled run, ready to go: the loop and the parameters it is run with.
public struct PreparedRun: Sendable {
    /// The loop, with every ingredient in place.
    public let loop: AgentLoop
    /// The task parameters.
    public let parameters: [String: String]
    /// The run's lease on the background model server, held as long as the run is.
    let modelLease: FileLock?
    /// The live run's hold on its workspace (`nil` for a replay, which writes nothing): its lock
    /// tells `airlock workspaces prune` that the workspace is in use until the run is over.
    let workspaceLease: WorkspaceLease?
    /// The live run's MCP servers, stopped when the run is over (`nil` for a replay).
    let servers: MCPToolHost?

    /// Creates a prepared run.
    init(
        loop: AgentLoop, parameters: [String: String], modelLease: FileLock? = nil,
        workspaceLease: WorkspaceLease? = nil, servers: MCPToolHost? = nil
    ) {
        self.loop = loop
        self.parameters = parameters
        self.modelLease = modelLease
        self.workspaceLease = workspaceLease
        self.servers = servers
    }

    /// The run's workspace.
    public var workspace: URL? { loop.context.workspace }

    /// Runs it, recording into `store` signed with `key`.
    /// - Throws: ``AgentError`` as ``AgentLoop/run(parameters:store:key:progress:)``.
    public func run(
        store: TraceStore, key: TraceSigningKey, progress: @escaping @Sendable (AgentProgress) -> Void = { _ in }
    ) async throws(AgentError) -> AgentRunOutcome {
        // The workspace and the model server stay leased until the run is over, whatever the
        // optimiser makes of `self`.
        defer { withExtendedLifetime((workspaceLease, modelLease)) {} }
        let outcome: Result<AgentRunOutcome, AgentError>
        do {
            outcome = .success(try await loop.run(parameters: parameters, store: store, key: key, progress: progress))
        } catch {
            outcome = .failure(error)
        }
        // The run's servers live as long as it does: killed whatever its end.
        await servers?.shutdown()
        return try outcome.get()
    }
}
