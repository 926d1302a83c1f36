/// What the loop reports as it goes, for the command line's one line per step.
public enum AgentProgress: Sendable, Hashable {
    /// The run was recorded as started.
    case started(runID: String)
    /// A request went to the model (the model is generating).
    case modelRequested(step: Int)
    /// The model answered after `seconds`, proposing `calls` tool calls.
    case modelAnswered(step: Int, seconds: Double, calls: Int)
    /// The model proposed a call.
    case proposed(callID: String, tool: String, arguments: String)
    /// A proposal could not be used (unknown tool, arguments not JSON or failing the schema).
    case malformed(callID: String, problem: String)
    /// The policy decided (`allow`, `ask`, `deny`), by these rules.
    case decided(callID: String, effect: String, rules: [String])
    /// An approval was given or refused.
    case approval(callID: String, granted: Bool, approver: String)
    /// The tool ran in the sandbox.
    case executed(callID: String, tool: String, exitCode: Int32, seconds: Double)
    /// The call repeats one that already ran; it was answered from the record, not run again.
    case repeated(callID: String, of: String)
}
