import AirlockCore

/// Why the policy module could not do what it was asked: load a policy, read a decision input or
/// a test file.
///
/// A denial is never this error: it is a ``Decision``. This error means the document itself is
/// wrong, and names the field path and line (`/rules/3/when/arguments/0/regex (line 41): …`).
public struct PolicyError: AirlockFailure, Sendable, Hashable {
    /// What kind of document was wrong.
    public enum Code: String, Sendable, Hashable, Codable {
        /// The policy document is malformed (syntax, unknown field, bad value, unknown threat tag).
        case invalidPolicy = "invalid-policy"
        /// A decision input (call file, context file, test case input) is malformed.
        case invalidInput = "invalid-input"
        /// A policy test file is malformed.
        case invalidTestFile = "invalid-test-file"
    }

    /// What kind of document was wrong.
    public var code: Code
    /// Every problem found, in document order; never empty.
    public var problems: [PolicyDiagnostic]

    /// Creates an error from the problems found.
    /// - Parameters:
    ///   - code: what kind of document was wrong.
    ///   - problems: the problems, at least one.
    public init(_ code: Code, problems: [PolicyDiagnostic]) {
        self.code = code
        self.problems = problems
    }

    /// A person-readable message: the first problem, and how many more there are.
    public var message: String {
        guard let first = problems.first else { return "\(code.rawValue): no details" }
        let more = problems.count > 1 ? " (and \(problems.count - 1) more problem(s))" : ""
        return "\(first)\(more)"
    }

    public var description: String { message }

    /// The code's name (`invalid-policy`).
    public var codeName: String { code.rawValue }

    /// A document that is wrong is malformed input (65), whichever kind it is.
    public var exitStatus: CommandExit { .dataError }
}
