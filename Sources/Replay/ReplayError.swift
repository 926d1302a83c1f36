import AirlockCore

/// Why a replay could not be done (a divergence is a result, not an error).
public typealias ReplayError = AirlockError<ReplayErrorCode>

/// What kind of failure a ``ReplayError`` is, and the exit status it ends a command with.
public enum ReplayErrorCode: String, AirlockErrorCode {
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

    /// The row of the exit-code table (docs/cli.md) each kind of failure ends a command with.
    public var exitStatus: CommandExit {
        switch self {
        case .unverified, .malformedRecord, .workflowMismatch: .dataError
        case .trace, .replay: .ioError
        case .runNotFound, .workflowMissing: .noInput
        }
    }
}
