/// Why a run could not be assembled: the stage (workflow, policy, site, model, trace, registry,
/// record) and the field or path, before anything was recorded.
///
/// Each code is one row of the exit-code table (docs/cli.md), so every front door reports the
/// same failure the same way.
public struct RunsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable {
        /// A request that names something wrongly: `--param`, `--approve`, `--tool-calling`, a
        /// malformed model endpoint (exit 64).
        case usage
        /// A workflow, policy, model script or `site.yaml` that does not parse or validate, or a
        /// record whose setup this Airlock cannot read (exit 65).
        case invalidInput = "invalid-input"
        /// The workflow or model script file does not exist (exit 66).
        case notFound = "not-found"
        /// The model cannot be used: none installed, its files differ from their pins, the server
        /// did not become ready, or the endpoint is refused by the air-gap rule (exit 69).
        case modelUnavailable = "model-unavailable"
        /// Airlock's own state (home, registry, trace, keys, secrets) could not be used (exit 74).
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
