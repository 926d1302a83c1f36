import Testing

@testable import Policy

/// The adversarial corpus (Fixtures/adversarial.yaml) against the shipped-workflows policy.
@Suite("Adversarial corpus")
struct AdversarialCorpusTests {
    @Test("at least 40 hostile proposals, each denied or asked by the rule that must catch it")
    func corpus() throws {
        let suite = try PolicyTestSuite(yaml: try RepositoryFiles.text("Tests/PolicyTests/Fixtures/adversarial.yaml"))
        let policy = try Policy(yaml: try RepositoryFiles.text("manifests/policies/workflows.yaml"))
        #expect(suite.cases.count >= 40)
        for result in suite.run(policy) {
            #expect(result.testCase.effect != .allow, "\(result.testCase.name) expects allow")
            #expect(result.testCase.rules?.isEmpty == false, "\(result.testCase.name) names no rule")
            if !result.passed { Issue.record(Comment(rawValue: result.text)) }
        }
    }

    @Test("the tests written beside the shipped policies pass")
    func shippedTests() throws {
        for (tests, policyFile) in [
            ("baseline.tests.yaml", "baseline.yaml"), ("workflows.tests.yaml", "workflows.yaml"),
        ] {
            let suite = try PolicyTestSuite(yaml: try RepositoryFiles.text("manifests/policies/" + tests))
            #expect(suite.policyPath == policyFile)
            let policy = try Policy(yaml: try RepositoryFiles.text("manifests/policies/" + policyFile))
            for result in suite.run(policy) where !result.passed {
                Issue.record(Comment(rawValue: "\(tests): \(result.text)"))
            }
        }
    }

    @Test("a wrong expectation fails and says what was expected and what happened")
    func failingCase() throws {
        let text = """
            airlock_policy_test: 1
            policy: p.yaml
            cases:
              - name: expects allow
                input: {tool: ghost, arguments: {}}
                expect: {effect: allow, rules: [x]}
            """
        let suite = try PolicyTestSuite(yaml: text)
        let policy = try Policy(yaml: "airlock_policy: 1\nname: p\nrules: []\n")
        let result = try #require(suite.run(policy).first)
        #expect(!result.passed)
        #expect(result.text.contains("FAIL  expects allow (line 4)"))
        #expect(result.text.contains("expected allow [x], got deny [builtin.unknown-tool]"))
    }

    @Test("malformed test files name the field and line")
    func malformed() throws {
        let text =
            "airlock_policy_test: 1\npolicy: p.yaml\ncases:\n  - name: a\n    input: {tool: t}\n    expect: {effect: maybe}\n"
        let error = try #require(throws: PolicyError.self) { try PolicyTestSuite(yaml: text) }
        #expect(error.code == .invalidTestFile)
        #expect(error.problems.first?.path == "/cases/0/expect/effect")
        #expect(error.problems.first?.line == 6)
    }
}
