import AirlockCore
import Foundation
import Model
import Policy
import RunEvents
import Secrets
import Tools
import Trace

/// The orchestrator: asks the model, and takes each proposed call through the catalog and its
/// schema, the policy, an approval when one is needed, and the tool runner, feeding the result
/// back within the manifest's byte cap, until a final answer, a spent budget or an error. Every
/// step is appended to the trace as a typed event (RunEvents) as it happens (`run.started` …
/// `run.finished`).
///
/// The loop talks to the world through four protocols: ``ChatModel``, ``ToolCatalog``,
/// ``ToolStepRunning`` and ``Approver``. A live run plugs in the model client, the registry and
/// the sandbox; a replay plugs in what the trace recorded, and re-drives this very code.
///
/// Malformed calls (unknown tool, arguments that are not JSON or fail the schema) go through the
/// policy like any other proposal (its built-in guards deny them), are answered to the model as an
/// error and recorded; they never end the run. Calls of one response are handled in order.
///
/// The run's clock is the trace's: budgets and the policy's `now` are read from the time of the
/// last recorded event, so that a replay, which plays the recorded times back, decides the same.
public struct AgentLoop: Sendable {
    /// Bounds and identity of a run.
    public struct Configuration: Sendable {
        /// The user the run acts for.
        public var user: String
        /// The agent identity recorded in the principal. Default `airlock-agent`.
        public var agent: String
        /// Tools approved in advance besides the workflow's `pre_approved` (`--approve TOOL`).
        public var preApproved: [String]
        /// Who is asked in approval mode `ask` (a live run's: the home's approval store with the
        /// terminal beside it, `Runs.StoreApprover`); `nil` denies and records (`no-terminal`).
        public var approver: (any Approver)?
        /// Consecutive denied calls after which the run ends as `denied` (default 3).
        public var maxConsecutiveDenials: Int
        /// The run id, or `nil` for a new random one.
        public var runID: String?
        /// Trace recorder options (checkpoint interval, redaction, clock).
        public var recorderOptions: TraceRecorderOptions
        /// The embedded model's artefacts, recorded in `run.started` when it is the one asked.
        public var embedded: RunStarted.Embedded?
        /// The Airlock version recorded in `run.started` (default this build's).
        public var airlockVersion: String = AirlockVersion.current
        /// Called with every call id, policy input and the decision it got, in order, so that a
        /// replay can re-judge the very same inputs under another policy (default none).
        public var decisionObserver: (@Sendable (String, PolicyInput, Decision) -> Void)?
        /// How tools are offered to the model (default ``ToolCallingMode/native``); in
        /// `constrained` mode the offer is compiled by ``ConstrainedToolSchema``. Recorded in
        /// `run.started` (`model.tool_calling`).
        public var toolCalling: ToolCallingMode
        /// Knows every secret value (and the tokens minted during the run): applied to what the
        /// model is sent and, composed with ``recorderOptions``' redactor, to the trace (default none).
        public var secretRedactor: SecretRedactor?
        /// What ends the run as `cancelled`: the run's task being cancelled, with the reason the
        /// front door requested (default a fresh ``TaskCancellation``); a replay's recorded point.
        public var cancellation: any RunCancellation = TaskCancellation()
        /// Whether requests ask the server to keep the conversation's prompt cached between the
        /// run's steps (llama-server's `cache_prompt`, set for the embedded model, whose server
        /// has one slot): each step then processes only what was added since the last (default
        /// false: other servers may not know the field).
        public var promptCache = false

        /// Creates a configuration.
        /// - Parameters:
        ///   - user: the user the run acts for.
        ///   - agent: the agent identity (default `airlock-agent`).
        ///   - preApproved: extra pre-approved tools (default none).
        ///   - approver: who is asked, or `nil` (default: deny and record).
        ///   - maxConsecutiveDenials: the denial circuit breaker (default 3).
        ///   - runID: the run id (default: a new UUID).
        ///   - recorderOptions: trace options (default ones).
        ///   - toolCalling: how tools are offered to the model (default native).
        public init(
            user: String, agent: String = "airlock-agent", preApproved: [String] = [], approver: (any Approver)? = nil,
            maxConsecutiveDenials: Int = 3, runID: String? = nil,
            recorderOptions: TraceRecorderOptions = TraceRecorderOptions(), toolCalling: ToolCallingMode = .native
        ) {
            self.toolCalling = toolCalling
            self.user = user
            self.agent = agent
            self.preApproved = preApproved
            self.approver = approver
            self.maxConsecutiveDenials = maxConsecutiveDenials
            self.runID = runID
            self.recorderOptions = recorderOptions
        }
    }

    /// The workflow being run.
    public let workflow: Workflow
    /// The workflow's policy, with its text.
    public let policyDocument: PolicyDocument
    /// Where the run's tools come from.
    public let catalog: any ToolCatalog
    /// What runs allowed calls.
    public let steps: any ToolStepRunning
    /// The model.
    public let model: any ChatModel
    /// The run's workspace and datasets.
    public let context: ToolRunContext
    /// Bounds and identity.
    public let configuration: Configuration

    /// The compiled policy.
    public var policy: Policy { policyDocument.policy }

    /// The code of the `model`-stage `error` the loop records for a reply cut at the token limit
    /// that the workflow does not accept: the loop's own finding about an answer it had, not a
    /// failure of the model to answer (a replay's model stand-in skips it).
    public static let truncatedErrorCode = "truncated"

    /// The stage of the `error` event that records a cancellation, its message the reason (where
    /// a replay's stand-in finds the point and the reason again).
    public static let cancellationStage = "cancel"

    /// Creates a loop over any catalog and tool runner.
    public init(
        workflow: Workflow, policy: PolicyDocument, catalog: any ToolCatalog, steps: any ToolStepRunning,
        model: any ChatModel, context: ToolRunContext, configuration: Configuration
    ) {
        self.workflow = workflow
        self.policyDocument = policy
        self.catalog = catalog
        self.steps = steps
        self.model = model
        self.context = context
        self.configuration = configuration
    }

    /// Creates a live loop: tools from the registry, run by `runner`.
    public init(
        workflow: Workflow, policy: PolicyDocument, registry: ToolRegistry, runner: ToolRunner, model: any ChatModel,
        context: ToolRunContext, configuration: Configuration
    ) {
        self.init(
            workflow: workflow, policy: policy, catalog: RegistryCatalog(registry: registry), steps: runner,
            model: model, context: context, configuration: configuration)
    }

    /// Loads the policy a workflow names.
    /// - Throws: ``AgentError`` `invalid-policy` naming the file and the first problem.
    public static func loadPolicy(of workflow: Workflow) throws(AgentError) -> PolicyDocument {
        try PolicyDocument.load(of: workflow)
    }

    /// The workflow's tools, resolved in the catalog.
    /// - Throws: ``AgentError`` `invalid-workflow` for a tool that is not registered, `registry`
    ///   when the registry cannot be read.
    public func resolveTools() throws(AgentError) -> [RegisteredTool] {
        var tools: [RegisteredTool] = []
        for name in workflow.tools {
            do throws(ToolsError) {
                tools.append(try catalog.tool(named: name))
            } catch {
                let code: AgentError.Code = error.code == .unknownTool ? .invalidWorkflow : .registry
                throw AgentError(
                    code, "workflow \(workflow.name) lists tool \(name), which cannot be used: \(error.message)")
            }
        }
        return tools
    }

    /// Runs the workflow once.
    /// - Parameters:
    ///   - parameters: `--param` values by name.
    ///   - store: the trace database.
    ///   - key: the checkpoint signing key.
    ///   - progress: called for every step, as it happens.
    /// - Returns: how the run ended; every outcome, a spent budget or a model failure included, is
    ///   a value recorded in the trace.
    /// - Throws: ``AgentError`` before the run starts (bad parameter, a workflow tool the registry
    ///   does not know), or `trace` when the trace could not be written (the run stops).
    public func run(
        parameters: [String: String], store: TraceStore, key: TraceSigningKey,
        progress: @escaping @Sendable (AgentProgress) -> Void = { _ in }
    ) async throws(AgentError) -> AgentRunOutcome {
        let (task, typed) = try workflow.renderTask(parameters)
        let plan = workflow.renderPlan(typed)
        let tools = try resolveTools()
        let offer = offer(tools)
        let started = started(tools: tools, offer: offer, parameters: typed)
        let recorder: RunRecorder
        do {
            var options = configuration.recorderOptions
            if let secrets = configuration.secretRedactor {
                let previous = options.redactor
                options.redactor = { secrets.redacted(previous($0)) }
            }
            recorder = try RunRecorder(
                store: store, key: key, runID: configuration.runID ?? UUID().uuidString.lowercased(),
                started: started.json, options: options)
        } catch {
            throw AgentError(.trace, "cannot start the run in the trace \(store.path)", cause: error)
        }
        progress(.started(runID: recorder.runID))
        let run = AgentRun(loop: self, recorder: recorder, tools: tools, offered: offer.tools, progress: progress)
        do {
            return try await run.drive(task: task, plan: plan)
        } catch {
            throw AgentError(
                .trace, "run \(recorder.runID): the trace could not be written; the run stopped", cause: error)
        }
    }

    /// The `run.started` record of this setup: everything a reviewer or a replay needs.
    func started(
        tools: [RegisteredTool], offer: (tools: [JSONValue], excluded: [String: [String]]),
        parameters: [String: JSONValue]
    ) -> RunStarted {
        let options = configuration.recorderOptions
        let settings = workflow.model
        var constrained: RunStarted.Constrained?
        if configuration.toolCalling == .constrained {
            constrained = RunStarted.Constrained(
                replySchemaSHA256: SHA256.hex(ConstrainedToolCalling.replySchema(tools: offer.tools).canonicalBytes),
                excludedTools: offer.excluded)
        }
        return RunStarted(
            workflow: workflow.name, principal: configuration.user, role: workflow.role, agent: configuration.agent,
            airlock: configuration.airlockVersion, parameters: parameters,
            workflowFile: RunStarted.WorkflowFile(
                sha256: workflow.sha256, text: workflow.text, path: workflow.path),
            policy: RunStarted.PolicyText(
                name: policy.name, digest: policy.digest, sha256: SHA256.hex(Array(policyDocument.text.utf8)),
                text: policyDocument.text, path: policyDocument.path),
            tools: tools.map {
                RunStarted.Tool(
                    name: $0.manifest.name, version: $0.manifest.version, manifestSHA256: $0.manifest.manifestSHA256,
                    executableSHA256: $0.manifest.executable.sha256, manifest: $0.manifest.document)
            },
            model: RunStarted.ModelFacts(
                name: model.name, kind: model.kind, toolCalling: configuration.toolCalling,
                sampling: RunStarted.Sampling(
                    temperature: settings.temperature, maxTokens: settings.maxTokens, seed: settings.seed),
                embedded: configuration.embedded, constrained: constrained,
                onTruncation: settings.onTruncation.rawValue),
            budgets: RunStarted.Budgets(
                maxSteps: workflow.budgets.maxSteps, maxToolCalls: workflow.budgets.maxToolCalls,
                wallSeconds: workflow.budgets.wallSeconds, maxRepeats: workflow.budgets.maxRepeats),
            breaker: RunStarted.Breaker(maxConsecutiveDenials: configuration.maxConsecutiveDenials),
            preApproved: Set(workflow.preApproved + configuration.preApproved).sorted(),
            recorder: RunStarted.Recorder(
                checkpointInterval: options.checkpointInterval, blobThreshold: options.blobThreshold,
                maxEventBytes: options.maxEventBytes),
            context: RunStarted.Context(
                workspace: context.workspace?.path, datasets: context.datasets.mapValues(\.path)))
    }

    /// The tool descriptions offered to the model: the manifests' as written in native mode, the
    /// policy-narrowed ``ConstrainedToolSchema`` in constrained mode.
    private func offer(_ tools: [RegisteredTool]) -> (tools: [JSONValue], excluded: [String: [String]]) {
        switch configuration.toolCalling {
        case .native:
            return (tools.map(\.manifest.modelToolDescription), [:])
        case .constrained:
            let schema = ConstrainedToolSchema(
                manifests: tools.map(\.manifest), policy: policy,
                principal: PolicyInput.Principal(
                    user: configuration.user, role: workflow.role, workflow: workflow.name, agent: configuration.agent))
            return (schema.tools, schema.excluded)
        }
    }
}
