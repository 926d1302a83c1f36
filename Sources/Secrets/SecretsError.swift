import AirlockCore

/// Why the secret store, a key or a token could not do what it was asked.
///
/// Names the path, the secret or the field, and what to do. An invalid token is not this error:
/// it is a ``TokenVerification`` value.
public typealias SecretsError = AirlockError<SecretsErrorCode>

/// What kind of failure a ``SecretsError`` is, and the exit status it ends a command with.
public enum SecretsErrorCode: String, AirlockErrorCode, Codable {
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

    /// The row of the exit-code table (docs/cli.md) each kind of failure ends a command with.
    public var exitStatus: CommandExit {
        switch self {
        case .invalidName, .invalidValue, .exists: .usage
        case .unknownName: .noInput
        case .unsafePermissions, .io: .ioError
        case .corrupt, .keyInvalid: .dataError
        }
    }
}
