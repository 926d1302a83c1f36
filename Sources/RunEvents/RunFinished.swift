import AirlockCore
import Trace

/// `run.finished`: how the run ended, with its counters and the answer.
public struct RunFinished: RunEventPayload {
    public static let type = TraceEventType.runFinished
    /// `succeeded`, `degenerate_answer`, `budget_exhausted`, `denied`, `repeating`,
    /// `model_unreachable`, `model_error`, `cancelled`, `failed`.
    public var status: String
    /// Why, for a person.
    public var message: String
    /// Model requests made.
    public var steps: Int
    /// Calls proposed.
    public var toolCalls: Int
    /// Calls that ran.
    public var executed: Int
    /// Calls refused.
    public var denied: Int
    /// The labels the run's context carries.
    public var labels: [String]
    /// The final answer, when the model gave one.
    public var answer: String?
    /// What made the final answer degenerate, when it was (`empty`: no text; `repetition`: one
    /// sentence or phrase repeated over most of it); the run's status is then `degenerate_answer`.
    public var degenerate: String?

    /// Creates the record of the end of a run.
    public init(
        status: String, message: String, steps: Int, toolCalls: Int, executed: Int, denied: Int, labels: [String],
        answer: String?, degenerate: String? = nil
    ) {
        self.degenerate = degenerate
        self.status = status
        self.message = message
        self.steps = steps
        self.toolCalls = toolCalls
        self.executed = executed
        self.denied = denied
        self.labels = labels
        self.answer = answer
    }

    enum CodingKeys: String, CodingKey {
        case status, message, steps, executed, denied, labels, answer, degenerate
        case toolCalls = "tool_calls"
    }
}

/// `error`: something failed at a stage; a run records it and goes on or ends.
public struct RunError: RunEventPayload {
    public static let type = TraceEventType.error
    /// `model`, `tool`, `proposal`, `budget`, `policy`, `repeat`, `cancel`, `sandbox`, `registry`.
    public var stage: String
    /// The error's code (`unreachable`, `malformed-call`, …).
    public var code: String?
    /// The whole message, with its cause.
    public var message: String
    /// The message without its cause, where the agent told the model that part
    /// (tool errors), so that a replay can tell it the same.
    public var summary: String?

    /// Creates the record of an error.
    public init(stage: String, code: String?, message: String, summary: String? = nil) {
        self.stage = stage
        self.code = code
        self.message = message
        self.summary = summary
    }
}
