import AirlockCore

/// The policy's reads on AirlockCore's one ``DocumentReader``: its problems as
/// ``PolicyDiagnostic`` errors (the linter adds warnings and notes of its own), its allowed-key
/// sets listed sorted in the message, and its YAML syntax errors as a ``PolicyError``.
extension DocumentReader {
    /// Every problem found, as an error diagnostic.
    var diagnostics: [PolicyDiagnostic] {
        all.map(Self.diagnostic)
    }

    /// Parses YAML text, turning a syntax error into a ``PolicyError`` of `code` with its line.
    static func parse(_ text: String, as code: PolicyError.Code) throws(PolicyError) -> YAMLDocument {
        try parse(text) { PolicyError(code, problems: $0.map(diagnostic)) }
    }

    /// One problem as an error diagnostic.
    private static func diagnostic(_ problem: FieldProblem) -> PolicyDiagnostic {
        PolicyDiagnostic(.error, path: problem.pointer, line: problem.line, message: problem.message)
    }

    /// An object's members, checking that only `allowed` keys appear (`nil` allows any key);
    /// the policy's key sets are unordered, so the message lists them sorted.
    mutating func object(_ value: JSONValue, at pointer: String, allowed: Set<String>?) -> DocumentFields? {
        object(value, at: pointer, allowed: allowed?.sorted(), required: [])
    }
}
