/// Why the secret store, a key or a token could not do what it was asked.
///
/// Names the path, the secret or the field, and what to do. An invalid token is not this error:
/// it is a ``TokenVerification`` value.
public struct SecretsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable, Codable {
        /// A secret name does not match `[A-Za-z_][A-Za-z0-9_.-]{0,63}`.
        case invalidName = "invalid-name"
        /// A value is empty, too short to redact safely, or too large.
        case invalidValue = "invalid-value"
        /// The named secret is not in the store (or there is no store yet).
        case unknownName = "unknown-name"
        /// `set` of a name that already exists (use `rotate`).
        case exists
        /// The store or a key file has group/other permission bits, or its directory does.
        case unsafePermissions = "unsafe-permissions"
        /// The store or a key could not be read or written.
        case io
        /// The store fails authentication or does not parse: damaged, or sealed with another key.
        case corrupt
        /// A key file is malformed or the crypto library failed.
        case keyInvalid = "key-invalid"
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed, for a person: the path, the secret or the field, and what to do.
    public var message: String
    /// The underlying error (errno text, library message), when there is one.
    public var cause: String?

    /// Creates an error.
    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - message: what failed, naming the path or the secret.
    ///   - cause: the underlying error, if any.
    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The message followed by its cause.
    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}
