import AirlockCore
import Foundation
import Model
import Policy
import Secrets
import Tools
import Trace

/// The orchestrator: asks the model, and takes each proposed call through the registry and its
/// schema, the policy, an approval when one is needed, and the sandbox, feeding the result back
/// within the manifest's byte cap, until a final answer, a spent budget or an error. Every step is
/// appended to the trace as it happens (`run.started` … `run.finished`).
///
/// Malformed calls (unknown tool, arguments that are not JSON or fail the schema) go through the
/// policy like any other proposal (its built-in guards deny them), are answered to the model as an
/// error and recorded; they never end the run. Calls of one response are handled in order.
public struct AgentLoop: Sendable {
    /// Bounds and identity of a run.
    public struct Configuration: Sendable {
        /// The user the run acts for.
        public var user: String
        /// The agent identity recorded in the principal. Default `airlock-agent`.
        public var agent: String
        /// Tools approved in advance besides the workflow's `pre_approved` (`--approve TOOL`).
        public var preApproved: [String]
        /// Who is asked in approval mode `ask`; `nil` (no terminal) denies and records.
        public var approver: (any Approver)?
        /// Consecutive denied calls after which the run ends as `denied` (default 3).
        public var maxConsecutiveDenials: Int
        /// The run id, or `nil` for a new random one.
        public var runID: String?
        /// Trace recorder options (checkpoint interval, redaction).
        public var recorderOptions: TraceRecorderOptions
        /// Facts about the model recorded in `run.started` beside its name and kind: for the
        /// embedded model, the model file's and server binary's SHA-256 (default none).
        public var modelDetails: [String: JSONValue] = [:]
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

        /// Creates a configuration.
        /// - Parameters:
        ///   - user: the user the run acts for.
        ///   - agent: the agent identity (default `airlock-agent`).
        ///   - preApproved: extra pre-approved tools (default none).
        ///   - approver: the terminal approver, or `nil` (default: deny and record).
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
    /// The workflow's policy, loaded.
    public let policy: Policy
    /// Where tools come from.
    public let registry: ToolRegistry
    /// What runs them (in the sandbox).
    public let runner: ToolRunner
    /// The model.
    public let model: any ChatModel
    /// The run's workspace and datasets.
    public let context: ToolRunContext
    /// Bounds and identity.
    public let configuration: Configuration

    /// Creates a loop.
    public init(
        workflow: Workflow, policy: Policy, registry: ToolRegistry, runner: ToolRunner, model: any ChatModel,
        context: ToolRunContext, configuration: Configuration
    ) {
        self.workflow = workflow
        self.policy = policy
        self.registry = registry
        self.runner = runner
        self.model = model
        self.context = context
        self.configuration = configuration
    }

    /// Loads the policy a workflow names.
    /// - Throws: ``AgentError`` `invalid-policy` naming the file and the first problem.
    public static func loadPolicy(of workflow: Workflow) throws(AgentError) -> Policy {
        let text: String
        do {
            text = try String(contentsOf: workflow.policyURL, encoding: .utf8)
        } catch {
            throw AgentError(
                .invalidPolicy, "workflow \(workflow.name): cannot read its policy \(workflow.policyURL.path)",
                cause: "\(error)")
        }
        do {
            return try Policy(yaml: text)
        } catch {
            throw AgentError(.invalidPolicy, "\(workflow.policyURL.path): \(error.message)")
        }
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
        var tools: [RegisteredTool] = []
        for name in workflow.tools {
            do throws(ToolsError) {
                let tool = try registry.resolve(name)
                guard tool.manifest.name == name else {
                    throw ToolsError(.unknownTool, "\(name) resolves to \(tool.manifest.name)")
                }
                tools.append(tool)
            } catch {
                let code: AgentError.Code = error.code == .unknownTool ? .invalidWorkflow : .registry
                throw AgentError(
                    code, "workflow \(workflow.name) lists tool \(name), which cannot be used: \(error.message)")
            }
        }
        let offer = offer(tools)
        var modelEntry = configuration.modelDetails.merging(
            [
                "name": .string(model.name), "kind": .string(model.kind),
                "tool_calling": .string(configuration.toolCalling.rawValue),
                "sampling": [
                    "temperature": .number(workflow.model.temperature),
                    "max_tokens": .integer(Int64(workflow.model.maxTokens)),
                    "seed": workflow.model.seed.map { .integer(Int64($0)) } ?? .null,
                ],
            ], uniquingKeysWith: { _, fixed in fixed })
        if configuration.toolCalling == .constrained {
            modelEntry["constrained"] = [
                "reply_schema_sha256": .string(
                    SHA256.hex(ConstrainedToolCalling.replySchema(tools: offer.tools).canonicalBytes)),
                "excluded_tools": .object(offer.excluded.mapValues { .array($0.map(JSONValue.string)) }),
            ]
        }
        let started: JSONValue = [
            "workflow": .string(workflow.name), "workflow_sha256": .string(workflow.sha256),
            "principal": .string(configuration.user), "role": .string(workflow.role),
            "agent": .string(configuration.agent), "parameters": .object(typed),
            "policy_digest": .string(policy.digest), "policy": .string(policy.name),
            "tools": .array(
                tools.map {
                    [
                        "name": .string($0.manifest.name), "version": .string($0.manifest.version),
                        "sha256": .string($0.manifest.executable.sha256),
                    ]
                }),
            "model": .object(modelEntry),
            "budgets": [
                "max_steps": .integer(Int64(workflow.budgets.maxSteps)),
                "max_tool_calls": .integer(Int64(workflow.budgets.maxToolCalls)),
                "wall_seconds": .number(workflow.budgets.wallSeconds),
            ],
        ]
        let recorder: RunRecorder
        do {
            var options = configuration.recorderOptions
            if let secrets = configuration.secretRedactor {
                let previous = options.redactor
                options.redactor = { secrets.redacted(previous($0)) }
            }
            recorder = try RunRecorder(
                store: store, key: key, runID: configuration.runID ?? UUID().uuidString.lowercased(), started: started,
                options: options)
        } catch {
            throw AgentError(.trace, "cannot start the run in the trace \(store.path)", cause: error.description)
        }
        progress(.started(runID: recorder.runID))
        let run = AgentRun(loop: self, recorder: recorder, tools: tools, offered: offer.tools, progress: progress)
        do {
            return try await run.drive(task: task)
        } catch {
            throw AgentError(
                .trace, "run \(recorder.runID): the trace could not be written; the run stopped", cause: "\(error)")
        }
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
