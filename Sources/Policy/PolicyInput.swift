import AirlockCore

/// Everything one decision depends on: who asks, where the run stands, which tool, which arguments.
///
/// The evaluation reads nothing else: no clock (``RunContext/now`` carries the time), no files, no
/// registry. The JSON form (snake_case keys, read strictly by ``init(json:)``, written by ``json``)
/// is documented in docs/policy.md and is what call files, context files and policy test cases
/// hold. `JSONValue` is not `Codable`, so neither is this type; its parts are.
public struct PolicyInput: Sendable, Hashable {
    /// Who is running the agent, in which workflow.
    public struct Principal: Sendable, Hashable, Codable {
        /// The human user the run acts for.
        public var user: String
        /// The user's role (e.g. `analyst`, `developer`).
        public var role: String
        /// The workflow being run.
        public var workflow: String
        /// The agent identity proposing the call.
        public var agent: String

        /// Creates a principal.
        public init(user: String = "", role: String = "", workflow: String = "", agent: String = "") {
            self.user = user
            self.role = role
            self.workflow = workflow
            self.agent = agent
        }
    }

    /// An approval a person gave for one exact call.
    public struct Approval: Sendable, Hashable, Codable {
        /// The tool it was given for.
        public var tool: String
        /// ``ArgumentDigest/digest(tool:arguments:)`` of the call it was given for.
        public var argumentsDigest: String
        /// Who approved.
        public var by: String
        /// When, in seconds since the Unix epoch.
        public var at: Double

        /// Creates an approval record.
        public init(tool: String, argumentsDigest: String, by: String, at: Double) {
            self.tool = tool
            self.argumentsDigest = argumentsDigest
            self.by = by
            self.at = at
        }

        enum CodingKeys: String, CodingKey {
            case tool, by, at
            case argumentsDigest = "arguments_digest"
        }
    }

    /// One earlier call of the run, for rate limits.
    public struct CallRecord: Sendable, Hashable, Codable {
        /// The tool called.
        public var tool: String
        /// When, in seconds since the Unix epoch.
        public var at: Double

        /// Creates a call record.
        public init(tool: String, at: Double) {
            self.tool = tool
            self.at = at
        }
    }

    /// Where the run stands when the call is proposed.
    public struct RunContext: Sendable, Hashable, Codable {
        /// The step number (1-based; 0 when unknown).
        public var step: Int64
        /// Calls already made, per tool name.
        public var callsByTool: [String: Int64]
        /// Calls already made in the run.
        public var totalCalls: Int64
        /// Seconds since the run started.
        public var elapsedSeconds: Double
        /// Tool output bytes received so far.
        public var outputBytes: Int64
        /// Data labels present in the conversation from earlier tool outputs.
        public var labels: [String]
        /// Approvals given so far in the run.
        public var approvals: [Approval]
        /// Earlier calls with their times (newest last), for rate limits.
        public var recentCalls: [CallRecord]
        /// The current time, in seconds since the Unix epoch (the evaluation never reads a clock).
        public var now: Double

        /// Creates a run context; the defaults describe the first call of a fresh run at time 0.
        public init(
            step: Int64 = 0, callsByTool: [String: Int64] = [:], totalCalls: Int64 = 0, elapsedSeconds: Double = 0,
            outputBytes: Int64 = 0, labels: [String] = [], approvals: [Approval] = [],
            recentCalls: [CallRecord] = [], now: Double = 0
        ) {
            self.step = step
            self.callsByTool = callsByTool
            self.totalCalls = totalCalls
            self.elapsedSeconds = elapsedSeconds
            self.outputBytes = outputBytes
            self.labels = labels
            self.approvals = approvals
            self.recentCalls = recentCalls
            self.now = now
        }

        enum CodingKeys: String, CodingKey {
            case step, labels, approvals, now
            case callsByTool = "calls_by_tool"
            case totalCalls = "total_calls"
            case elapsedSeconds = "elapsed_seconds"
            case outputBytes = "output_bytes"
            case recentCalls = "recent_calls"
        }
    }

    /// The tool name exactly as the model proposed it.
    public var toolName: String
    /// The proposed arguments (already parsed with ``JSONParser``).
    public var arguments: JSONValue
    /// The registered tool's facts, or `nil` when the registry does not know `toolName`.
    public var tool: ToolFacts?
    /// The tools the workflow allows, or `nil` when the workflow does not restrict them.
    public var workflowAllowedTools: [String]?
    /// Who is asking.
    public var principal: Principal
    /// Where the run stands.
    public var context: RunContext

    /// Creates a decision input.
    public init(
        toolName: String, arguments: JSONValue, tool: ToolFacts?, workflowAllowedTools: [String]? = nil,
        principal: Principal = Principal(), context: RunContext = RunContext()
    ) {
        self.toolName = toolName
        self.arguments = arguments
        self.tool = tool
        self.workflowAllowedTools = workflowAllowedTools
        self.principal = principal
        self.context = context
    }
}
