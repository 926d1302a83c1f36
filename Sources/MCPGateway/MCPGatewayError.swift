/// Why an MCP gateway could not do what it was asked: the stage (profile, run, transport) and the
/// field or path. Each code is one row of the exit-code table (docs/cli.md).
public struct MCPGatewayError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable {
        /// A request that names something wrongly: a profile name that is not a name (exit 64).
        case usage
        /// A profile that does not parse or validate (exit 65).
        case invalidInput = "invalid-input"
        /// The profile, or the workflow it names, does not exist (exit 66).
        case notFound = "not-found"
        /// The session could not be served: the transport failed or the run could not be
        /// assembled or recorded (exit 74).
        case state
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed, naming the stage and the field or path.
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
