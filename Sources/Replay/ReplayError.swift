/// Why a replay could not be done (a divergence is a result, not an error).
public struct ReplayError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable {
        /// The trace does not verify: replaying it would explain nothing.
        case unverified = "unverified"
        /// The trace could not be read.
        case trace = "trace"
        /// The run's record is incomplete or not in the schema (a missing `run.started`).
        case malformedRecord = "malformed-record"
        /// No run with that id is stored.
        case runNotFound = "run-not-found"
        /// The run's workflow file cannot be found.
        case workflowMissing = "workflow-missing"
        /// The workflow file is not the one the run recorded.
        case workflowMismatch = "workflow-mismatch"
        /// The orchestrator could not be re-driven (a scratch trace, a workflow tool).
        case replay = "replay"
    }

    /// What went wrong.
    public var code: Code
    /// A message naming the run, the stage and what to do.
    public var message: String
    /// The underlying error, if any.
    public var cause: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// `[code] message (cause)`.
    public var description: String {
        "[\(code.rawValue)] \(message)" + (cause.map { " (\($0))" } ?? "")
    }
}
