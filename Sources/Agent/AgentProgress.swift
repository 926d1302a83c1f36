import AirlockCore

/// What the loop reports as it goes, for the command line's one line per step (and, as
/// ``json``, for `airlock run --progress json` and other front doors).
public enum AgentProgress: Sendable, Hashable {
    /// The run was recorded as started.
    case started(runID: String)
    /// A request went to the model (the model is generating).
    case modelRequested(step: Int)
    /// The model is generating: `tokens` so far after `seconds` (a server that streams its reply).
    case generating(step: Int, tokens: Int, seconds: Double)
    /// The model answered after `seconds`, proposing `calls` tool calls, having generated `tokens`
    /// (as the server counted them, when it said).
    case modelAnswered(step: Int, seconds: Double, calls: Int, tokens: Int?)
    /// The model proposed a call.
    case proposed(callID: String, tool: String, arguments: String)
    /// A proposal could not be used (unknown tool, arguments not JSON or failing the schema).
    case malformed(callID: String, problem: String)
    /// The policy decided (`allow`, `ask`, `deny`), by these rules.
    case decided(callID: String, effect: String, rules: [String])
    /// An approval was given or refused.
    case approval(callID: String, granted: Bool, approver: String)
    /// The tool ran in the sandbox; a call that failed brings the end of its stderr (redacted).
    case executed(callID: String, tool: String, exitCode: Int32, seconds: Double, stderrTail: String?)
    /// The call repeats one that already ran; it was answered from the record, not run again.
    case repeated(callID: String, of: String)

    /// How many of a failed call's last stderr lines progress shows.
    public static let stderrTailLines = 5

    /// The event as one JSON object: `event` names the case, the other members its values
    /// (`airlock run --progress json` prints one per line).
    public var json: JSONValue {
        switch self {
        case .started(let runID): ["event": "started", "run_id": .string(runID)]
        case .modelRequested(let step): ["event": "model_requested", "step": .integer(Int64(step))]
        case .generating(let step, let tokens, let seconds):
            [
                "event": "generating", "step": .integer(Int64(step)), "tokens": .integer(Int64(tokens)),
                "seconds": .number(seconds),
            ]
        case .modelAnswered(let step, let seconds, let calls, let tokens):
            [
                "event": "model_answered", "step": .integer(Int64(step)), "seconds": .number(seconds),
                "calls": .integer(Int64(calls)), "tokens": tokens.map { .integer(Int64($0)) } ?? .null,
            ]
        case .proposed(let callID, let tool, let arguments):
            ["event": "proposed", "call_id": .string(callID), "tool": .string(tool), "arguments": .string(arguments)]
        case .malformed(let callID, let problem):
            ["event": "malformed", "call_id": .string(callID), "problem": .string(problem)]
        case .decided(let callID, let effect, let rules):
            [
                "event": "decided", "call_id": .string(callID), "effect": .string(effect),
                "rules": .array(rules.map(JSONValue.string)),
            ]
        case .approval(let callID, let granted, let approver):
            ["event": "approval", "call_id": .string(callID), "granted": .bool(granted), "approver": .string(approver)]
        case .executed(let callID, let tool, let exitCode, let seconds, let stderrTail):
            [
                "event": "executed", "call_id": .string(callID), "tool": .string(tool),
                "exit_code": .integer(Int64(exitCode)), "seconds": .number(seconds),
                "stderr_tail": stderrTail.map(JSONValue.string) ?? .null,
            ]
        case .repeated(let callID, let earlier):
            ["event": "repeated", "call_id": .string(callID), "of": .string(earlier)]
        }
    }
}
