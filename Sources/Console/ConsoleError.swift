import AirlockCore

/// Why the console could not do what it was asked: a listen address it refuses, a run or request
/// that does not exist, state it cannot read or write.
public typealias ConsoleError = AirlockError<ConsoleErrorCode>

/// What kind of failure a ``ConsoleError`` is (each is a row of `airlock console`'s exit table,
/// docs/cli.md).
public enum ConsoleErrorCode: String, AirlockErrorCode {
    /// A malformed `--listen`, or a non-loopback address `site.yaml` `console_listen:` does not list (exit 64).
    case usage
    /// The console's state (socket directory, audit log, trace, stores) could not be used (exit 74).
    case state

    /// The row of the exit-code table each kind of failure ends a command with.
    public var exitStatus: CommandExit {
        switch self {
        case .usage: .usage
        case .state: .ioError
        }
    }
}
