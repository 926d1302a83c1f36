/// Why the agent could not do what it was asked: a malformed workflow or parameter, a model
/// that could not answer, a trace that could not be written, a sandbox that could not be set up.
///
/// A denied call, a spent budget or a tool's failure is never this error: those are outcomes of
/// the run (``AgentRunOutcome``), recorded in the trace.
public struct AgentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable, Codable {
        /// The workflow file is malformed, or names a tool the registry does not know.
        case invalidWorkflow = "invalid-workflow"
        /// A `--param` is unknown, missing, or not of the declared type.
        case invalidParameter = "invalid-parameter"
        /// The workflow's policy file could not be read or loaded.
        case invalidPolicy = "invalid-policy"
        /// The registry could not be read.
        case registry
        /// The trace could not be written; the run stopped.
        case trace
        /// A file could not be read.
        case io
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed, for a person: the file, field (with its line) or stage, and the reason.
    public var message: String
    /// The underlying error, when there is one.
    public var cause: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The message, then the cause on its own line.
    public var description: String {
        guard let cause else { return message }
        return "\(message)\n  cause: \(cause)"
    }
}
