/// How a run ended. Every outcome is recorded as `run.finished` with ``Status/rawValue``.
public struct AgentRunOutcome: Sendable, Hashable {
    /// Why the run ended.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// The model gave a final answer.
        case succeeded
        /// The model ended with a final answer that is not one: empty, or one phrase repeated over
        /// most of it (``DegenerateAnswer``); the text is kept in ``AgentRunOutcome/answer``.
        case degenerateAnswer = "degenerate_answer"
        /// A budget (steps, tool calls, wall time) was spent.
        case budgetExhausted = "budget_exhausted"
        /// Calls kept being denied (the agent's circuit breaker) and the run ended.
        case denied
        /// The model kept proposing a call identical to one that already ran (same tool, same
        /// arguments) more often than `budgets.max_repeats` allows, and the run ended.
        case repeating
        /// The model could not be reached (down, refused, timed out).
        case modelUnreachable = "model_unreachable"
        /// The model answered with something unusable (HTTP error, malformed reply, spent script,
        /// a reply cut at the token limit).
        case modelError = "model_error"
        /// The run was cancelled (Ctrl-C or SIGTERM at the command line): the request in flight
        /// was abandoned, a running tool killed, and the ending recorded.
        case cancelled
        /// Airlock could not go on (the sandbox could not be set up).
        case failed
    }

    /// The run's id in the trace.
    public var runID: String
    /// Why the run ended.
    public var status: Status
    /// The final answer, when there is one.
    public var answer: String?
    /// Why it ended, for a person (the budget spent, the model error).
    public var message: String
    /// Model requests made.
    public var steps: Int
    /// Tool calls proposed.
    public var toolCalls: Int
    /// Tool calls that ran in the sandbox.
    public var executed: Int
    /// Tool calls denied (by policy, refused approval or budget).
    public var denied: Int
    /// What made the final answer degenerate (``DegenerateAnswer``), when it was.
    public var degenerate: String? = nil
}
