/// Why the approval store could not do what it was asked: no such request, a request that is no
/// longer pending, a self-approval the policy forbids, or a store that could not be used.
///
/// Each code is one row of `airlock approvals`' exit-code table (docs/cli.md).
public struct ApprovalsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable {
        /// No request has that id (exit 66).
        case notFound = "not-found"
        /// The request was already granted, denied or expired; nothing changed (exit 1).
        case notPending = "not-pending"
        /// The policy requires an approver other than the run's principal, and the principal
        /// tried to approve; the request stays pending (exit 77).
        case selfApproval = "self-approval"
        /// The answer was given for other arguments than the request's (their digest differs): the
        /// approver saw another call; nothing changed.
        case argumentsChanged = "arguments-changed"
        /// A request that cannot be written as given: an id already used, an empty reason (exit 64
        /// from the command line, where it is checked first).
        case invalidRequest = "invalid-request"
        /// The store database could not be opened, read or written (exit 74).
        case store
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed, for a person, naming the request and the stage.
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
