import AirlockCore
import Sandbox
import Trace

/// `tool.proposed`: one call the model proposed, as the agent took it in.
public struct ToolProposed: RunEventPayload {
    public static let type = TraceEventType.toolProposed
    /// The call's id (the model's, or `call-STEP-N`).
    public var callID: String
    /// The tool name exactly as proposed.
    public var tool: String
    /// The arguments, parsed; the raw text as a string when they are not JSON.
    public var arguments: JSONValue
    /// The raw argument text, when it is not JSON.
    public var argumentsText: String?
    /// The step it was proposed at.
    public var step: Int
    /// The SHA-256 of the tool's stored executable as measured for this call, when the name
    /// resolved to a registered tool (the policy compares it with the pinned one).
    public var executableSHA256: String?
    /// The manifest of a registered tool the run's workflow does not list, so that a replay
    /// judges the proposal on the same facts (`builtin.not-in-workflow`).
    public var manifest: JSONValue?
    /// Who proposed the call when it was not the model: `plan` for a step of the workflow's
    /// `plan:`, run before the model is first asked (its step is 0).
    public var origin: String?

    /// Creates the record of a proposal.
    public init(
        callID: String, tool: String, arguments: JSONValue, argumentsText: String?, step: Int,
        executableSHA256: String? = nil, manifest: JSONValue? = nil, origin: String? = nil
    ) {
        self.origin = origin
        self.callID = callID
        self.tool = tool
        self.arguments = arguments
        self.argumentsText = argumentsText
        self.step = step
        self.executableSHA256 = executableSHA256
        self.manifest = manifest
    }

    enum CodingKeys: String, CodingKey {
        case tool, arguments, step, manifest, origin
        case callID = "call_id"
        case argumentsText = "arguments_text"
        case executableSHA256 = "executable_sha256"
    }
}

/// `tool.executed`: a call ran in the sandbox; the full record with its confinement evidence,
/// output streams redacted.
public struct ToolExecuted: RunEventPayload {
    public static let type = TraceEventType.toolExecuted
    /// The call's id.
    public var callID: String
    /// `name@version` of what ran.
    public var tool: String
    /// The argv after the program, as rendered from the arguments.
    public var argv: [String]
    /// The exit code a shell would report.
    public var exitCode: Int32
    /// Everything the sandbox recorded.
    public var record: ExecutionRecord
    /// What the call created, changed or removed in the run's workspace, in path order; absent
    /// when the tool does not mount the workspace writable (it could change nothing there).
    public var workspaceChanges: [FileChange]?
    /// Why ``workspaceChanges`` may be incomplete (a listing bound, more changes than are listed).
    public var workspaceChangesCut: String?
    /// The idempotency key the tool was handed in `AIRLOCK_IDEMPOTENCY_KEY` (`RUN_ID:CALL_ID`);
    /// absent when it was given none.
    public var idempotencyKey: String?

    /// Creates the record of an execution.
    public init(
        callID: String, tool: String, argv: [String], exitCode: Int32, record: ExecutionRecord,
        workspaceChanges: [FileChange]? = nil, workspaceChangesCut: String? = nil, idempotencyKey: String? = nil
    ) {
        self.callID = callID
        self.tool = tool
        self.argv = argv
        self.exitCode = exitCode
        self.record = record
        self.workspaceChanges = workspaceChanges
        self.workspaceChangesCut = workspaceChangesCut
        self.idempotencyKey = idempotencyKey
    }

    enum CodingKeys: String, CodingKey {
        case tool, argv, record
        case callID = "call_id"
        case exitCode = "exit_code"
        case workspaceChanges = "workspace_changes"
        case workspaceChangesCut = "workspace_changes_cut"
        case idempotencyKey = "idempotency_key"
    }
}

/// `tool.result`: what the model was told about a call, after redaction and the manifest's cap.
public struct ToolResult: RunEventPayload {
    public static let type = TraceEventType.toolResult
    /// The call's id.
    public var callID: String
    /// The text fed back to the model.
    public var content: String
    /// Whether output was cut (by the sandbox or by the manifest's cap); absent for a refusal.
    public var truncated: Bool?
    /// The content's size in UTF-8 bytes; absent for a refusal.
    public var bytes: Int?
    /// The labels the output carries; absent for a refusal.
    public var labels: [String]?
    /// The secrets masked in the content, with their counts.
    public var redactions: [Redaction]?
    /// `true` when the call did not run (refused by policy or approval, or could not start).
    public var refused: Bool?
    /// For a call identical to one that already ran (same tool, same argument digest): that
    /// call's id. The tool did not run again; the content repeats that call's result with a note.
    public var repeatOf: String?
    /// When the output was longer than the workflow's `model.tool_result_bytes`: its size in
    /// bytes before it was summarised. ``content`` is the summary the model was told; the whole
    /// output stays in `tool.executed`'s record.
    public var summarisedFrom: Int?

    /// One masked secret.
    public struct Redaction: Sendable, Hashable, Codable {
        /// The secret's name.
        public var secret: String
        /// How many times it was masked.
        public var count: Int

        /// Creates a redaction count.
        public init(secret: String, count: Int) {
            self.secret = secret
            self.count = count
        }
    }

    /// Creates the record of a result.
    public init(
        callID: String, content: String, truncated: Bool? = nil, bytes: Int? = nil, labels: [String]? = nil,
        redactions: [Redaction]? = nil, refused: Bool? = nil, repeatOf: String? = nil, summarisedFrom: Int? = nil
    ) {
        self.summarisedFrom = summarisedFrom
        self.repeatOf = repeatOf
        self.callID = callID
        self.content = content
        self.truncated = truncated
        self.bytes = bytes
        self.labels = labels
        self.redactions = redactions
        self.refused = refused
    }

    enum CodingKeys: String, CodingKey {
        case content, truncated, bytes, labels, redactions, refused
        case callID = "call_id"
        case repeatOf = "repeat_of"
        case summarisedFrom = "summarised_from"
    }
}
