import AirlockCore
import Model
import Trace

/// `run.started`: everything a run was set up with, so that the run can be understood, and
/// replayed, from the trace alone: the workflow document, the policy text, every tool's manifest
/// and pinned executable, the model and its sampling, budgets, the circuit breaker, the
/// recorder's options, the workspace and datasets, and who ran it.
///
/// Facts about the world (who, when, which model binary, which files) are copied by a replay;
/// what code derives from the documents (digests, the constrained offer) is derived again and so
/// compared.
public struct RunStarted: RunEventPayload {
    public static let type = TraceEventType.runStarted
    /// The version of the run-event payloads this run was recorded with (see ``currentSchema``).
    public var schema: Int
    /// The run-event schema this Airlock records; a replay refuses a run recorded with another.
    /// 3: approvals by another person (request ids, scopes, sources, separation of duties);
    /// runs can end `cancelled` or `repeating`, a cut reply ends the run unless the workflow
    /// accepts it (`model.on_truncation`), repeated calls are answered from the record
    /// (`budgets.max_repeats`).
    public static let currentSchema = 3
    /// The workflow's name (also in the trace's index; required by `run.started`'s schema).
    public var workflow: String
    /// The user the run acts for (also in the trace's index; required).
    public var principal: String
    /// The role the run acts in.
    public var role: String
    /// The agent identity proposing calls.
    public var agent: String
    /// The Airlock version that recorded the run.
    public var airlock: String
    /// The task's parameters, typed as the workflow declares them.
    public var parameters: [String: JSONValue]
    /// The workflow document.
    public var workflowFile: WorkflowFile
    /// The policy the run was judged by.
    public var policy: PolicyText
    /// The workflow's tools as registered when the run started.
    public var tools: [Tool]
    /// The model and how it was asked.
    public var model: ModelFacts
    /// How far the run may go.
    public var budgets: Budgets
    /// When the agent stops a run that keeps failing.
    public var breaker: Breaker
    /// Tools whose calls are approved in advance (the workflow's and `--approve`), sorted.
    public var preApproved: [String]
    /// How the trace was written.
    public var recorder: Recorder
    /// Where the run's variables pointed on the host.
    public var context: Context

    /// The workflow file: its bytes' digest and its text, from which a replay parses it again.
    public struct WorkflowFile: Sendable, Hashable, Codable {
        /// SHA-256 of the file's bytes.
        public var sha256: String
        /// The file's text (YAML).
        public var text: String
        /// Where it was read from (informational; a replay never reads it).
        public var path: String?

        /// Creates the record of a workflow file.
        public init(sha256: String, text: String, path: String?) {
            self.sha256 = sha256
            self.text = text
            self.path = path
        }
    }

    /// The policy: its name, the digest of its compiled form, and its source text.
    public struct PolicyText: Sendable, Hashable, Codable {
        /// The policy's name.
        public var name: String
        /// The policy's digest (what every decision names).
        public var digest: String
        /// SHA-256 of the source text.
        public var sha256: String
        /// The source text (YAML).
        public var text: String
        /// Where it was read from (informational).
        public var path: String?

        /// Creates the record of a policy.
        public init(name: String, digest: String, sha256: String, text: String, path: String?) {
            self.name = name
            self.digest = digest
            self.sha256 = sha256
            self.text = text
            self.path = path
        }
    }

    /// One registered tool version.
    public struct Tool: Sendable, Hashable, Codable {
        /// The tool's name.
        public var name: String
        /// Its version.
        public var version: String
        /// SHA-256 of the canonical manifest document (the registered version's identity).
        public var manifestSHA256: String
        /// The pinned executable's SHA-256.
        public var executableSHA256: String
        /// The manifest document as registered.
        public var manifest: JSONValue

        /// Creates the record of a tool version.
        public init(
            name: String, version: String, manifestSHA256: String, executableSHA256: String, manifest: JSONValue
        ) {
            self.name = name
            self.version = version
            self.manifestSHA256 = manifestSHA256
            self.executableSHA256 = executableSHA256
            self.manifest = manifest
        }

        enum CodingKeys: String, CodingKey {
            case name, version, manifest
            case manifestSHA256 = "manifest_sha256"
            case executableSHA256 = "executable_sha256"
        }
    }

    /// The model: what answered, how tools were offered, how it sampled.
    public struct ModelFacts: Sendable, Hashable, Codable {
        /// The model's name as the client reports it (`openai:unix:…`, `scripted:…`).
        public var name: String
        /// `openai-compatible` or `scripted`.
        public var kind: String
        /// How tools were offered.
        public var toolCalling: ToolCallingMode
        /// The sampling settings sent with every request.
        public var sampling: Sampling
        /// The embedded model's artefacts, when it answered.
        public var embedded: Embedded?
        /// The constrained offer's digest and what it left out, in constrained mode.
        public var constrained: Constrained?
        /// What a reply cut at the token limit did: `error` (the run ends as `model_error`) or
        /// `accept` (the workflow's `model.on_truncation`).
        public var onTruncation: String

        /// Creates model facts.
        public init(
            name: String, kind: String, toolCalling: ToolCallingMode, sampling: Sampling, embedded: Embedded? = nil,
            constrained: Constrained? = nil, onTruncation: String = "error"
        ) {
            self.name = name
            self.kind = kind
            self.toolCalling = toolCalling
            self.sampling = sampling
            self.embedded = embedded
            self.constrained = constrained
            self.onTruncation = onTruncation
        }

        enum CodingKeys: String, CodingKey {
            case name, kind, sampling, embedded, constrained
            case toolCalling = "tool_calling"
            case onTruncation = "on_truncation"
        }
    }

    /// Sampling settings.
    public struct Sampling: Sendable, Hashable, Codable {
        /// Temperature.
        public var temperature: Double
        /// The most tokens per answer.
        public var maxTokens: Int
        /// The seed, when one was set.
        public var seed: Int?

        /// Creates sampling settings.
        public init(temperature: Double, maxTokens: Int, seed: Int?) {
            self.temperature = temperature
            self.maxTokens = maxTokens
            self.seed = seed
        }

        enum CodingKeys: String, CodingKey {
            case temperature, seed
            case maxTokens = "max_tokens"
        }
    }

    /// The embedded model that answered: each artefact with its SHA-256.
    public struct Embedded: Sendable, Hashable, Codable {
        /// The model's name in the lock (`smollm2-135m-instruct`).
        public var name: String
        /// The GGUF file's name.
        public var modelFile: String
        /// The served GGUF's SHA-256.
        public var modelSHA256: String
        /// The server's name in the lock.
        public var server: String
        /// The server binary's SHA-256.
        public var serverSHA256: String
        /// The lock file's digest.
        public var lockSHA256: String
        /// What the supervisor saw of the server's network.
        public var serverNetwork: String

        /// Creates the record of the embedded model.
        public init(
            name: String, modelFile: String, modelSHA256: String, server: String, serverSHA256: String,
            lockSHA256: String, serverNetwork: String
        ) {
            self.name = name
            self.modelFile = modelFile
            self.modelSHA256 = modelSHA256
            self.server = server
            self.serverSHA256 = serverSHA256
            self.lockSHA256 = lockSHA256
            self.serverNetwork = serverNetwork
        }

        enum CodingKeys: String, CodingKey {
            case name, server
            case modelFile = "model_file"
            case modelSHA256 = "model_sha256"
            case serverSHA256 = "server_sha256"
            case lockSHA256 = "lock_sha256"
            case serverNetwork = "server_network"
        }
    }

    /// The constrained offer (docs/workflows.md#tool-calling).
    public struct Constrained: Sendable, Hashable, Codable {
        /// SHA-256 of the reply schema's canonical JSON.
        public var replySchemaSHA256: String
        /// Per tool, the reasons it was left out of the offer.
        public var excludedTools: [String: [String]]

        /// Creates the record of a constrained offer.
        public init(replySchemaSHA256: String, excludedTools: [String: [String]]) {
            self.replySchemaSHA256 = replySchemaSHA256
            self.excludedTools = excludedTools
        }

        enum CodingKeys: String, CodingKey {
            case replySchemaSHA256 = "reply_schema_sha256"
            case excludedTools = "excluded_tools"
        }
    }

    /// Budgets.
    public struct Budgets: Sendable, Hashable, Codable {
        /// The most model requests.
        public var maxSteps: Int
        /// The most tool calls proposed.
        public var maxToolCalls: Int
        /// The longest the run may take, in seconds.
        public var wallSeconds: Double
        /// How many times a call identical to one that ran was answered from the record before
        /// the next repeat ended the run.
        public var maxRepeats: Int

        /// Creates budgets.
        public init(maxSteps: Int, maxToolCalls: Int, wallSeconds: Double, maxRepeats: Int = 2) {
            self.maxSteps = maxSteps
            self.maxToolCalls = maxToolCalls
            self.wallSeconds = wallSeconds
            self.maxRepeats = maxRepeats
        }

        enum CodingKeys: String, CodingKey {
            case maxSteps = "max_steps"
            case maxToolCalls = "max_tool_calls"
            case wallSeconds = "wall_seconds"
            case maxRepeats = "max_repeats"
        }
    }

    /// The agent's circuit breaker.
    public struct Breaker: Sendable, Hashable, Codable {
        /// Consecutive refused calls after which the run ends as `denied`.
        public var maxConsecutiveDenials: Int

        /// Creates a breaker.
        public init(maxConsecutiveDenials: Int) {
            self.maxConsecutiveDenials = maxConsecutiveDenials
        }

        enum CodingKeys: String, CodingKey {
            case maxConsecutiveDenials = "max_consecutive_denials"
        }
    }

    /// The recorder's options.
    public struct Recorder: Sendable, Hashable, Codable {
        /// The most events between signed checkpoints (a checkpoint is also signed at every step boundary).
        public var checkpointInterval: Int
        /// Strings above this many bytes went to the blob table.
        public var blobThreshold: Int
        /// The largest event accepted, in bytes.
        public var maxEventBytes: Int

        /// Creates the record of the recorder's options.
        public init(checkpointInterval: Int, blobThreshold: Int, maxEventBytes: Int) {
            self.checkpointInterval = checkpointInterval
            self.blobThreshold = blobThreshold
            self.maxEventBytes = maxEventBytes
        }

        enum CodingKeys: String, CodingKey {
            case checkpointInterval = "checkpoint_interval"
            case blobThreshold = "blob_threshold"
            case maxEventBytes = "max_event_bytes"
        }
    }

    /// Where `${workspace}` and `${dataset:NAME}` pointed.
    public struct Context: Sendable, Hashable, Codable {
        /// The run's workspace on the host, if it had one.
        public var workspace: String?
        /// Dataset name → host directory.
        public var datasets: [String: String]

        /// Creates the record of a run's context.
        public init(workspace: String?, datasets: [String: String]) {
            self.workspace = workspace
            self.datasets = datasets
        }
    }

    /// Creates the record.
    public init(
        schema: Int = RunStarted.currentSchema, workflow: String, principal: String, role: String, agent: String,
        airlock: String,
        parameters: [String: JSONValue], workflowFile: WorkflowFile, policy: PolicyText, tools: [Tool],
        model: ModelFacts, budgets: Budgets, breaker: Breaker, preApproved: [String], recorder: Recorder,
        context: Context
    ) {
        self.schema = schema
        self.workflow = workflow
        self.principal = principal
        self.role = role
        self.agent = agent
        self.airlock = airlock
        self.parameters = parameters
        self.workflowFile = workflowFile
        self.policy = policy
        self.tools = tools
        self.model = model
        self.budgets = budgets
        self.breaker = breaker
        self.preApproved = preApproved
        self.recorder = recorder
        self.context = context
    }

    enum CodingKeys: String, CodingKey {
        case schema, workflow, principal, role, agent, airlock, parameters, policy, tools, model, budgets, breaker,
            recorder, context
        case workflowFile = "workflow_file"
        case preApproved = "pre_approved"
    }
}
