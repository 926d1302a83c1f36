/// The one shape of an Airlock error: a module's code, a message for a person naming the field,
/// path or stage, and the cause underneath it, kept as an error.
///
/// Each module names its codes (``AirlockErrorCode``) and declares the row of the exit-code table
/// (docs/cli.md) each one ends a command with, so every front door reports the same failure the
/// same way; the module's error is this type over those codes (`TraceError` is
/// `AirlockError<TraceErrorCode>`).
public struct AirlockError<Kind: AirlockErrorCode>: AirlockFailure, Hashable {
    /// The module's codes (`TraceError.Code` is `TraceErrorCode`).
    public typealias Code = Kind

    /// What kind of failure this is.
    public var code: Code
    /// What failed, for a person: the stage, the field or the path, and what to do.
    public var message: String
    /// The underlying error (an errno, SQLite's message, a parser's, another module's error),
    /// when there is one.
    public var cause: ErrorCause?
    /// Every problem found in a document (manifest, schema, arguments), each with its pointer and
    /// line, so that a lint reports every one; empty for other failures.
    public var problems: [FieldProblem]
    /// Threat tags (THREATS.md) of the control that refused (`asi:04` for a drifted digest).
    public var threats: [String]

    /// Creates an error whose cause is only text (a C library's message).
    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - message: what failed, naming the stage, field or path.
    ///   - problems: every problem found in the document, if it is one.
    ///   - cause: the underlying error's text, if any.
    ///   - threats: the threat tags of the control that refused, if one did.
    public init(
        _ code: Code, _ message: String, problems: [FieldProblem] = [], cause: String? = nil, threats: [String] = []
    ) {
        self.init(code, message, problems: problems, cause: cause.map { ErrorCause($0) }, threats: threats)
    }

    /// Creates an error caused by another error, which is kept.
    public init(
        _ code: Code, _ message: String, problems: [FieldProblem] = [], cause: (any Error)?, threats: [String] = []
    ) {
        self.code = code
        self.message = message
        self.problems = problems
        self.cause = cause.map { $0 as? ErrorCause ?? ErrorCause($0) }
        self.threats = threats
    }

    /// The code's name, as shown in brackets (`[run-not-found]`) and recorded.
    public var codeName: String { code.rawValue }

    /// The row of the exit-code table this failure ends a command with.
    public var exitStatus: CommandExit { code.exitStatus }

    /// The message, every problem on its own line, then the cause.
    public var description: String {
        guard !problems.isEmpty || cause != nil else { return message }
        var lines = [message]
        lines += problems.map { "  \($0)" }
        if let cause { lines.append("  cause: \(cause)") }
        return lines.joined(separator: "\n")
    }
}

/// A module's error codes: stable names (kebab-case, recorded and shown in brackets) and the exit
/// status each one ends a command with.
public protocol AirlockErrorCode: RawRepresentable<String>, Sendable, Hashable {
    /// The row of the exit-code table (docs/cli.md) a command ends with when this is why it failed.
    var exitStatus: CommandExit { get }
}

/// What the command line needs of any error it reports: a code name, the message (its
/// description) and the exit status. ``AirlockError`` is one; so are errors of another shape
/// (a policy's list of problems, a sandbox step's errno).
public protocol AirlockFailure: Error, CustomStringConvertible {
    /// The code's name (`run-not-found`).
    var codeName: String { get }
    /// The row of the exit-code table this failure ends a command with.
    var exitStatus: CommandExit { get }
}

/// The underlying error of an ``AirlockError``: the error itself when there is one (so a caller
/// can still ask what it was), and its text, which is what equality and printing use.
public struct ErrorCause: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text of the cause.
    public let description: String
    /// The error itself, when the cause was an error rather than a C library's message.
    public let underlying: (any Error)?

    /// A cause that is only text.
    public init(_ text: String) {
        self.description = text
        self.underlying = nil
    }

    /// A cause that is an error; its description is kept as the text, after its code's name when
    /// it is an Airlock error (`[storage] append to run r1: disk I/O error`).
    public init(_ error: any Error) {
        if let failure = error as? any AirlockFailure {
            self.description = "[\(failure.codeName)] \(failure)"
        } else {
            self.description = String(describing: error)
        }
        self.underlying = error
    }

    public static func == (lhs: ErrorCause, rhs: ErrorCause) -> Bool { lhs.description == rhs.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}

/// The exit-code table every `airlock` command uses (docs/cli.md): sysexits(3) where it names the
/// case, the container runtimes' 125 for "the sandbox could not be set up".
public enum CommandExit: Int32, Sendable, Hashable, CaseIterable {
    /// Success: the program exited 0, a policy allowed, every trace verified.
    case success = 0
    /// A check found a problem: verification failed, a policy test failed, a lint found issues.
    case checkFailed = 1
    /// `policy check` decided **ask**: an approval is required.
    case approvalRequired = 2
    /// `run`: a budget (steps, tool calls, wall time) was spent before a final answer.
    case budgetExhausted = 3
    /// `run`: calls kept being refused (policy or approval) and the run ended without an answer.
    case runDenied = 4
    /// `run`: the model kept repeating a call that already ran (`budgets.max_repeats`).
    case runRepeating = 5
    /// `run`: the model's final answer was degenerate (empty, or one phrase repeated).
    case runDegenerate = 6
    /// Bad usage: unknown flag, malformed value (EX_USAGE).
    case usage = 64
    /// The input file is malformed: manifest, policy, workflow, call (EX_DATAERR).
    case dataError = 65
    /// An input file or named object does not exist (EX_NOINPUT).
    case noInput = 66
    /// The model is unreachable or could not answer (EX_UNAVAILABLE).
    case modelUnavailable = 69
    /// Airlock's own state could not be read or written (EX_IOERR).
    case ioError = 74
    /// The policy requires another principal than the one who tried (EX_NOPERM).
    case noPermission = 77
    /// The sandbox could not be set up; nothing ran.
    case sandboxSetup = 125
}

/// One problem found in a document (a manifest, a schema, a call's arguments): where and what.
public struct FieldProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The JSON pointer of the offending field (`/limits/memory`, `/paths/2`).
    public var pointer: String
    /// The 1-based source line, when the document came from a file.
    public var line: Int?
    /// What is wrong and, where possible, what would be right.
    public var message: String

    /// Creates a problem.
    public init(pointer: String, line: Int? = nil, message: String) {
        self.pointer = pointer
        self.line = line
        self.message = message
    }

    /// `/limits/memory (line 14): must be …`.
    public var description: String {
        let at = pointer.isEmpty ? "(root)" : pointer
        if let line { return "\(at) (line \(line)): \(message)" }
        return "\(at): \(message)"
    }
}
