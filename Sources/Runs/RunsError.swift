import AirlockCore

/// Why a run could not be assembled: the stage (workflow, policy, site, model, trace, registry,
/// record) and the field or path, before anything was recorded.
///
/// Each code is one row of the exit-code table (docs/cli.md), so every front door reports the
/// same failure the same way.
public typealias RunsError = AirlockError<RunsErrorCode>

/// What kind of failure a ``RunsError`` is, and the exit status it ends a command with.
public enum RunsErrorCode: String, AirlockErrorCode {
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

    /// The row of the exit-code table (docs/cli.md) each kind of failure ends a command with.
    public var exitStatus: CommandExit {
        switch self {
        case .usage: .usage
        case .invalidInput: .dataError
        case .notFound: .noInput
        case .modelUnavailable: .modelUnavailable
        case .state: .ioError
        }
    }
}
