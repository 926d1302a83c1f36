import AirlockCore

/// Why the trace could not do what it was asked: record, read, sign, import.
///
/// A trace that fails verification is never this error: it is a ``RunVerification`` value. This
/// error means Airlock itself could not act, and names the stage, the field or the path.
public typealias TraceError = AirlockError<TraceErrorCode>

/// What kind of failure a ``TraceError`` is, and the exit status it ends a command with.
public enum TraceErrorCode: String, AirlockErrorCode, Codable {
    /// An event's payload does not match its schema (a missing or mistyped field).
    case invalidEvent = "invalid-event"
    /// A run id is empty, too long or has characters outside `[A-Za-z0-9._-]`.
    case invalidRunID = "invalid-run-id"
    /// The named run is not in the trace.
    case runNotFound = "run-not-found"
    /// A run with this id already exists.
    case runExists = "run-exists"
    /// The recorder stopped after an earlier failure or after `run.finished`; nothing more is recorded.
    case recorderStopped = "recorder-stopped"
    /// The disk (or the configured trace size bound) is full.
    case storageFull = "storage-full"
    /// The trace database is read-only.
    case readOnly = "read-only"
    /// The trace database is damaged or not a trace database.
    case corrupt = "corrupt"
    /// Any other SQLite failure.
    case storage = "storage"
    /// The signing key file has group or other permissions.
    case keyPermissions = "key-permissions"
    /// A key (private or public) could not be read, parsed or created.
    case keyInvalid = "key-invalid"
    /// A JSONL export is malformed.
    case malformedExport = "malformed-export"
    /// An import did not verify against a trusted key.
    case importRejected = "import-rejected"

    /// The row of the exit-code table (docs/cli.md) each kind of failure ends a command with.
    public var exitStatus: CommandExit {
        switch self {
        case .invalidEvent, .keyInvalid, .malformedExport: .dataError
        case .invalidRunID: .usage
        case .runNotFound: .noInput
        case .runExists, .importRejected: .checkFailed
        case .recorderStopped, .storageFull, .readOnly, .corrupt, .storage, .keyPermissions: .ioError
        }
    }
}
