import Testing

@testable import Policy

@Suite("Policy lint")
struct PolicyLinterTests {
    @Test("rules that can never match, shadowed rules and overlapping permits are found")
    func analyses() {
        let text = """
            airlock_policy: 1
            name: lint
            rules:
              - id: no-export
                effect: forbid
                when: {tools: [export]}
                reason: r
                tags: [asi:02]
              - id: export-analysts
                effect: permit
                when: {tools: [export], roles: [analyst]}
                reason: r
                tags: [maestro:L3]
              - id: contradiction
                effect: permit
                when: {tools: [read], arguments: [{pointer: /m, equals: a, one_of: [b, c]}]}
                reason: r
                tags: [maestro:L3]
              - id: self-cancelling
                effect: forbid
                when: {tools: [read], roles: [x]}
                unless: {roles: [x]}
                reason: r
                tags: [asi:02]
              - id: sql-forbid
                effect: forbid
                when: {tools: [sql]}
                unless: {arguments: [{pointer: /q, regex: "select.*"}]}
                reason: r
                tags: [asi:02]
              - id: sql-permit
                effect: permit
                when: {tools: [sql]}
                reason: r
                tags: [maestro:L3]
            """
        let findings = PolicyLinter.lint(text)
        func find(_ severity: PolicyDiagnostic.Severity, _ part: String) -> PolicyDiagnostic? {
            findings.first { $0.severity == severity && $0.message.contains(part) }
        }
        let shadowed = find(.warning, "'export-analysts' never changes a decision: forbid 'no-export'")
        #expect(shadowed?.path == "/rules/1")
        #expect(shadowed?.line == 9)
        #expect(find(.warning, "'contradiction' can never match") != nil)
        #expect(find(.warning, "'self-cancelling' can never match") != nil)
        #expect(find(.note, "permit 'sql-permit' overlaps forbid 'sql-forbid'") != nil)
        #expect(findings.filter { $0.severity == .warning }.count == 3)
    }

    @Test("a forbid or approval regex that a newline defeats is a warning; dot-all ones and permits are not")
    func newlineDefeatedRegex() throws {
        let text = """
            airlock_policy: 1
            name: lint
            rules:
              - id: leading-dash
                effect: forbid
                when: {arguments: [{pointer: /p, regex: '\\s*-.*'}]}
                reason: r
                tags: [asi:02]
              - id: long-ask
                effect: require_approval
                when: {arguments: [{pointer: /q, regex: '.{100,}'}]}
                reason: r
                tags: [asi:02]
              - id: dot-all
                effect: forbid
                when: {arguments: [{pointer: /p, regex: '(?is)\\s*-.*|[.]x|\\.y'}]}
                reason: r
                tags: [asi:02]
              - id: no-dot
                effect: forbid
                when: {arguments: [{pointer: /p, regex: '[.]+\\.x'}]}
                reason: r
                tags: [asi:02]
              - id: permit-dot
                effect: permit
                when: {arguments: [{pointer: /p, regex: 'a.b'}]}
                reason: r
                tags: [maestro:L3]
            """
        let warnings = PolicyLinter.lint(text).filter { $0.severity == .warning && $0.message.contains("newline") }
        #expect(warnings.map(\.path) == ["/rules/0", "/rules/1"])
        #expect(warnings.first?.message.contains("start it with (?s)") == true)
        // The shipped policies lint clean of it.
        for file in ["manifests/policies/baseline.yaml", "manifests/policies/workflows.yaml"] {
            let shipped = PolicyLinter.lint(try RepositoryFiles.text(file))
            #expect(!shipped.contains { $0.message.contains("newline") }, "\(file): \(shipped)")
        }
    }

    @Test("load errors are lint errors with path and line")
    func errors() {
        let findings = PolicyLinter.lint(
            "airlock_policy: 1\nname: x\nrules:\n  - {id: a, effect: permit, reason: r, tags: [bogus]}\n")
        #expect(findings.count == 1)
        #expect(findings.first?.severity == .error)
        #expect(findings.first?.path == "/rules/0/tags/0")
        #expect(findings.first?.line == 4)
    }
}
