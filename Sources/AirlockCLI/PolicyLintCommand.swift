import AirlockCore
import ArgumentParser
import Policy

/// `airlock policy lint`: malformed or unknown fields, rules that never match, shadowed rules,
/// permits overlapping forbids.
///
/// Exit status (docs/cli.md): 0 clean (notes allowed), 1 warnings (the policy loads but a rule
/// cannot do what it says), 65 errors (the policy does not load), 66 missing file.
struct PolicyLintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Lint a policy file; exit 65 when it does not load, 1 on warnings."
    )

    @Argument(help: "The policy file (YAML).")
    var file: String

    func run() async throws {
        let text = try PolicyFiles.read(file, what: "policy")
        let findings = PolicyLinter.lint(text)
        for finding in findings {
            let path = finding.path.isEmpty ? "(document)" : finding.path
            print(
                "\(terminal: file):\(finding.line.map(String.init) ?? "-"): \(finding.severity.rawValue): \(terminal: path): \(terminal: finding.message)"
            )
        }
        let errors = findings.filter { $0.severity == .error }.count
        let warnings = findings.filter { $0.severity == .warning }.count
        let notes = findings.count - errors - warnings
        print("\(errors) error(s), \(warnings) warning(s), \(notes) note(s)")
        if errors > 0 { throw ExitCode.dataError }
        if warnings > 0 { throw ExitCode.checkFailed }
    }
}
