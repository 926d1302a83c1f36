import AirlockCore
import Testing

@testable import Policy

@Suite("Policy loading")
struct PolicyLoadingTests {
    @Test("the shipped policies load and lint without errors or warnings")
    func shippedPolicies() throws {
        for file in ["manifests/policies/baseline.yaml", "manifests/policies/workflows.yaml"] {
            let text = try RepositoryFiles.text(file)
            let policy = try Policy(yaml: text)
            #expect(!policy.ruleIDs.isEmpty)
            #expect(policy.digest.count == 64)
            let findings = PolicyLinter.lint(text).filter { $0.severity != .note }
            #expect(findings.isEmpty, "\(file): \(findings)")
        }
    }

    @Test("each bad field is reported with its path and line")
    func badFieldsNamePathAndLine() throws {
        let text = """
            airlock_policy: 1
            name: bad
            rules:
              - id: r1
                effect: allow
                reason: ok
                tags: [maestro:L3]
              - id: r2
                effect: permit
                reason: ok
                tags: [maestro:L9]
                when: {tools: [x], risk_at_least: extreme, colour: red}
            """
        let error = try #require(throws: PolicyError.self) { try Policy(yaml: text) }
        #expect(error.code == .invalidPolicy)
        let found = Set(error.problems.map { "\($0.path)@\($0.line ?? 0)" })
        #expect(found.contains("/rules/0/effect@5"))
        #expect(found.contains("/rules/1/tags/0@11"))
        #expect(found.contains("/rules/1/when/risk_at_least@12"))
        #expect(found.contains("/rules/1/when/colour@12"))
        #expect(error.message.contains(#"must be one of forbid, require_approval, permit (found "allow")"#))
    }

    @Test("missing required parts and reserved or duplicate ids are errors")
    func requiredAndReserved() throws {
        let missing = try #require(throws: PolicyError.self) { try Policy(yaml: "name: x\nrules: [{id: a}]\n") }
        let paths = Set(missing.problems.map(\.path))
        #expect(paths.isSuperset(of: ["/airlock_policy", "/rules/0/effect", "/rules/0/reason", "/rules/0/tags"]))

        let reserved =
            "airlock_policy: 1\nname: x\nrules: [{id: builtin.mine, effect: forbid, reason: r, tags: [asi:02]}]\n"
        let r = try #require(throws: PolicyError.self) { try Policy(yaml: reserved) }
        #expect(r.problems.first?.message.contains("reserved") == true)

        let duplicate = """
            airlock_policy: 1
            name: x
            rules:
              - {id: a, effect: forbid, reason: r, tags: [asi:02]}
              - {id: a, effect: permit, reason: r, tags: [asi:02]}
            """
        let d = try #require(throws: PolicyError.self) { try Policy(yaml: duplicate) }
        #expect(d.problems.first?.path == "/rules/1/id")
        #expect(d.problems.first?.line == 5)
    }

    @Test("bad regexes, ranges, placeholders and path roots are load errors")
    func badValues() throws {
        let text = """
            airlock_policy: 1
            name: x
            rules:
              - id: a
                effect: forbid
                reason: "no {nope}"
                tags: [asi:02]
                when:
                  arguments:
                    - {pointer: /q, regex: "("}
                    - {pointer: /n, range: {min: 5, max: 1}}
                    - {pointer: /p, path_within: [relative/dir]}
                    - {pointer: /z}
            """
        let error = try #require(throws: PolicyError.self) { try Policy(yaml: text) }
        let paths = error.problems.map(\.path)
        #expect(paths.contains("/rules/0/reason"))
        #expect(paths.contains("/rules/0/when/arguments/0/regex"))
        #expect(paths.contains("/rules/0/when/arguments/1/range"))
        #expect(paths.contains("/rules/0/when/arguments/2/path_within/0"))
        #expect(paths.contains("/rules/0/when/arguments/3"))
    }

    @Test("YAML syntax errors and duplicate keys carry a line")
    func yamlErrors() throws {
        let error = try #require(throws: PolicyError.self) {
            try Policy(yaml: "airlock_policy: 1\nname: a\nname: b\nrules: []\n")
        }
        // YAMLDocument (Yams) reports the line where the duplicated key first appears.
        #expect(error.problems.first?.line == 2)
        #expect(error.problems.first?.message.contains("'name'") == true)
    }

    @Test("the digest follows the content, not the formatting")
    func digestIsCanonical() throws {
        let a = try Policy(yaml: "airlock_policy: 1\nname: x\nrules: []\n")
        let b = try Policy(yaml: "{\"rules\": [], \"name\": \"x\", \"airlock_policy\": 1}")
        let c = try Policy(yaml: "airlock_policy: 1\nname: y\nrules: []\n")
        #expect(a.digest == b.digest)
        #expect(a.digest != c.digest)
    }
}
