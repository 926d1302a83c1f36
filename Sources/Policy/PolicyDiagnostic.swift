import AirlockCore

/// One finding about a policy or input document: where it is and what is wrong.
///
/// Load errors and `airlock policy lint` findings share this shape so that both name the field
/// path (an RFC 6901 JSON pointer) and the source line.
public struct PolicyDiagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    /// How serious a finding is.
    public enum Severity: String, Sendable, Hashable, Codable, Comparable {
        /// The document cannot be used: malformed or unknown field, bad value.
        case error
        /// The document loads but a rule cannot do what its author meant (never matches, shadowed).
        case warning
        /// Worth a look but often intended (a permit overlapping a forbid).
        case note

        private var rank: Int {
            switch self {
            case .error: 0
            case .warning: 1
            case .note: 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    /// How serious it is.
    public var severity: Severity
    /// The JSON pointer of the field concerned (`""` for the whole document).
    public var path: String
    /// The 1-based source line, when known.
    public var line: Int?
    /// What is wrong and what to do about it.
    public var message: String

    /// Creates a finding.
    public init(_ severity: Severity, path: String, line: Int?, message: String) {
        self.severity = severity
        self.path = path
        self.line = line
        self.message = message
    }

    /// `/rules/3/when (line 41): …`, worded as every other document problem (``FieldProblem``).
    public var description: String {
        FieldProblem(pointer: path, line: line, message: message).description
    }
}
