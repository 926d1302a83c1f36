import AirlockCore
import Foundation

/// A workflow: what the agent is for, what it may use, and how far it may go
/// (`manifests/workflows/*.yaml`, documented in docs/workflows.md).
public struct Workflow: Sendable, Hashable {
    /// One typed parameter of the task template.
    public struct Parameter: Sendable, Hashable {
        /// The JSON type a value must have.
        public enum Kind: String, Sendable, Hashable, CaseIterable {
            case string, integer, number, boolean
        }

        /// The parameter's name (`{{name}}` in the task).
        public var name: String
        /// The value's type.
        public var kind: Kind
        /// Whether a value must be given (a parameter with a default never must).
        public var required: Bool
        /// The value used when none is given.
        public var defaultValue: JSONValue?
        /// What it means, for the analyst.
        public var description: String
    }

    /// What the run does with a reply the server cut at the token limit (`finish_reason: length`).
    public enum TruncationHandling: String, Sendable, Hashable, CaseIterable {
        /// The run ends as `model_error` with code `truncated` (the default): a cut reply may be
        /// a half-written answer or call.
        case error
        /// The cut reply is used as it is.
        case accept
    }

    /// Sampling settings sent with every model request, and what a cut reply does.
    public struct ModelSettings: Sendable, Hashable {
        /// Sampling temperature (default 0.2).
        public var temperature: Double = 0.2
        /// The most tokens per answer (default 1024).
        public var maxTokens: Int = 1024
        /// The sampling seed, or `nil`.
        public var seed: Int?
        /// What a reply cut at ``maxTokens`` does (default ``TruncationHandling/error``).
        public var onTruncation: TruncationHandling = .error
        /// The most bytes of one tool result the model is shown, or `nil` (default) for the
        /// manifest's `output.maxBytes` alone; a longer result is summarised (``ToolResultSummary``).
        public var toolResultBytes: Int?
        /// Whether the request after a step that repeated a call which already ran offers no
        /// tools, asking the model for its answer (default false: it may call again, up to
        /// `budgets.max_repeats`).
        public var answerAfterRepeat = false

        /// Creates settings.
        /// - Parameters:
        ///   - temperature: sampling temperature (default 0.2).
        ///   - maxTokens: the most tokens per answer (default 1024).
        ///   - seed: the sampling seed (default none).
        ///   - onTruncation: what a cut reply does (default: the run ends as `model_error`).
        public init(
            temperature: Double = 0.2, maxTokens: Int = 1024, seed: Int? = nil,
            onTruncation: TruncationHandling = .error
        ) {
            self.temperature = temperature
            self.maxTokens = maxTokens
            self.seed = seed
            self.onTruncation = onTruncation
        }
    }

    /// How far a run may go.
    public struct Budgets: Sendable, Hashable {
        /// How many times, by default, a call identical to one that already ran is answered from
        /// the record before the next repeat ends the run: 2.
        public static let defaultMaxRepeats = 2

        /// The most model requests (default 10).
        public var maxSteps: Int = 10
        /// The most tool calls proposed (default 20).
        public var maxToolCalls: Int = 20
        /// The longest a run may take, in seconds, model requests and tool runs included
        /// (default 600).
        public var wallSeconds: Double = 600
        /// How many times a call identical to one that already ran (same tool, same argument
        /// digest) is answered from the record; one more ends the run as `repeating`
        /// (default ``defaultMaxRepeats``).
        public var maxRepeats: Int = Budgets.defaultMaxRepeats

        /// Creates budgets.
        /// - Parameters:
        ///   - maxSteps: the most model requests (default 10).
        ///   - maxToolCalls: the most tool calls proposed (default 20).
        ///   - wallSeconds: the longest a run may take (default 600 s).
        ///   - maxRepeats: repeats of one call answered from the record (default 2).
        public init(
            maxSteps: Int = 10, maxToolCalls: Int = 20, wallSeconds: Double = 600,
            maxRepeats: Int = Budgets.defaultMaxRepeats
        ) {
            self.maxSteps = maxSteps
            self.maxToolCalls = maxToolCalls
            self.wallSeconds = wallSeconds
            self.maxRepeats = maxRepeats
        }
    }

    /// How long a run waits for an approval when `approval.timeout` is not set, in seconds (5 min).
    public static let defaultApprovalTimeoutSeconds: Double = 300
    /// The longest `approval.timeout` a workflow may set, in seconds (a day).
    public static let maxApprovalTimeoutSeconds: Double = 86400

    /// What happens when the policy asks for an approval.
    public enum ApprovalMode: String, Sendable, Hashable, CaseIterable {
        /// Ask: write a request to the home's approval store (`airlock approvals`) and, on a
        /// terminal, prompt too; whichever answers first wins, until `approval.timeout`.
        case ask
        /// Never ask: every call that needs an approval is denied (pre-approved tools aside).
        case deny
    }

    /// One fixed call of the workflow's `plan:`: run before the model is first asked, through the
    /// policy, approval and sandbox like any call, recorded with origin `plan`.
    public struct PlanStep: Sendable, Hashable {
        /// The tool (one of the workflow's).
        public var tool: String
        /// The arguments; `{{name}}` in a string value is replaced by the parameter's value.
        public var arguments: JSONValue

        /// Creates a step.
        public init(tool: String, arguments: JSONValue) {
            self.tool = tool
            self.arguments = arguments
        }
    }

    /// The most steps a `plan:` may hold.
    public static let maxPlanSteps = 8

    /// Fixed calls run before the model is asked (default none): the workflow author's choice.
    public var plan: [PlanStep] = []

    /// The workflow's name (what policies match in `workflows:`).
    public var name: String
    /// What it does, for the analyst.
    public var description: String
    /// The role the run acts in (what policies match in `roles:`). Default `analyst`.
    public var role: String
    /// The system prompt.
    public var systemPrompt: String
    /// The task, with `{{parameter}}` placeholders.
    public var task: String
    /// The task's parameters.
    public var parameters: [Parameter]
    /// The registered tools the agent may use (a subset of the registry).
    public var tools: [String]
    /// The policy file, resolved against the workflow's directory.
    public var policyURL: URL
    /// Sampling settings.
    public var model: ModelSettings
    /// Budgets.
    public var budgets: Budgets
    /// Approval mode.
    public var approval: ApprovalMode
    /// Tools whose calls are approved in advance (the analyst adds more with `--approve`).
    public var preApproved: [String]
    /// How long a run waits for an answer to one approval request, in seconds
    /// (`approval.timeout`, default ``defaultApprovalTimeoutSeconds``); then the call is denied.
    public var approvalTimeoutSeconds: Double = Workflow.defaultApprovalTimeoutSeconds
    /// The SHA-256 of the workflow file's bytes, recorded in `run.started`.
    public var sha256: String
    /// The workflow file's text, recorded in `run.started` (a replay parses it again).
    public var text: String = ""
    /// The file it was read from, if any (informational: a replay never reads it).
    public var path: String?
}
