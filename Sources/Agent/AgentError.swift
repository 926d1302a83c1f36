import AirlockCore

/// Why the agent could not do what it was asked: a malformed workflow or parameter, a model
/// that could not answer, a trace that could not be written, a sandbox that could not be set up.
///
/// A denied call, a spent budget or a tool's failure is never this error: those are outcomes of
/// the run (``AgentRunOutcome``), recorded in the trace.
public typealias AgentError = AirlockError<AgentErrorCode>

/// What kind of failure a ``AgentError`` is, and the exit status it ends a command with.
public enum AgentErrorCode: String, AirlockErrorCode, Codable {
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

    /// The row of the exit-code table (docs/cli.md) each kind of failure ends a command with.
    public var exitStatus: CommandExit {
        switch self {
        case .invalidWorkflow, .invalidPolicy: .dataError
        case .invalidParameter: .usage
        case .registry, .trace: .ioError
        case .io: .noInput
        }
    }
}
