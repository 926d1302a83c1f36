import AirlockCore

/// Why the approval store could not do what it was asked: no such request, a request that is no
/// longer pending, a self-approval the policy forbids, or a store that could not be used.
///
/// Each code is one row of `airlock approvals`' exit-code table (docs/cli.md).
public typealias ApprovalsError = AirlockError<ApprovalsErrorCode>

/// What kind of failure a ``ApprovalsError`` is, and the exit status it ends a command with.
public enum ApprovalsErrorCode: String, AirlockErrorCode {
    /// No request has that id (exit 66).
    case notFound = "not-found"
    /// The request was already granted, denied or expired; nothing changed (exit 1).
    case notPending = "not-pending"
    /// The policy requires an approver other than the run's principal, and the principal
    /// tried to approve; the request stays pending (exit 77).
    case selfApproval = "self-approval"
    /// The store's database refused the write for this login: the workers' role may record a
    /// request and its expiry but never grant or deny (exit 77).
    case notPermitted = "not-permitted"
    /// The answer was given for other arguments than the request's (their digest differs): the
    /// approver saw another call; nothing changed (exit 1).
    case argumentsChanged = "arguments-changed"
    /// A request that cannot be written as given: an id already used, an empty reason (exit 64
    /// from the command line, where it is checked first).
    case invalidRequest = "invalid-request"
    /// The store database could not be opened, read or written (exit 74).
    case store

    /// The row of the exit-code table (docs/cli.md) each kind of failure ends a command with.
    public var exitStatus: CommandExit {
        switch self {
        case .notFound: .noInput
        case .notPending, .argumentsChanged: .checkFailed
        case .selfApproval, .notPermitted: .noPermission
        case .invalidRequest: .usage
        case .store: .ioError
        }
    }
}
