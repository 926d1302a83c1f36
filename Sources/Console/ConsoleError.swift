/// Why the console could not do what it was asked: a listen address it refuses, a run or request
/// that does not exist, state it cannot read or write.
public struct ConsoleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is (each is a row of `airlock console`'s exit table, docs/cli.md).
    public enum Code: String, Sendable, Hashable {
        /// A malformed `--listen`, or a non-loopback address `site.yaml` `console_listen:` does not list (exit 64).
        case usage
        /// The console's state (socket directory, audit log, trace, stores) could not be used (exit 74).
        case state
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed, for a person, naming the field or path.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
