import Runs

/// Why an evaluation could not be done: a suite that does not read, a file it names that is not
/// there, a configuration that names nothing runnable, or Airlock's own state. A task whose run
/// failed its checks is not an error: it is a result (``EvaluationReport``).
///
/// Each code is one row of the exit-code table (docs/cli.md, `airlock eval`).
public struct EvaluationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable {
        /// A configuration or option that names something wrongly (exit 64).
        case usage
        /// A suite, workflow, policy or oracle script that does not parse or validate (exit 65).
        case invalidInput = "invalid-input"
        /// The suite, or a workflow or oracle it names, does not exist (exit 66).
        case notFound = "not-found"
        /// The model cannot be used (exit 69).
        case modelUnavailable = "model-unavailable"
        /// The trace, registry or home could not be used (exit 74).
        case state
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed, naming the file, the field and its line.
    public var message: String
    /// The underlying error, when there is one.
    public var cause: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The error of a run that could not be assembled, its code kept, the task named.
    init(task: String, _ error: RunsError) {
        let code: Code =
            switch error.code {
            case .usage: .usage
            case .invalidInput: .invalidInput
            case .notFound: .notFound
            case .modelUnavailable: .modelUnavailable
            case .state: .state
            }
        self.init(code, "task \(task): \(error.message)", cause: error.cause)
    }

    /// The message, then the cause on its own line.
    public var description: String {
        guard let cause else { return message }
        return "\(message)\n  cause: \(cause)"
    }
}
