import AirlockCore
import Testing

@testable import Policy

@Suite("Policy evaluation")
struct PolicyEvaluationTests {
    static let digest = String(repeating: "c", count: 64)

    static let policyText = """
        airlock_policy: 1
        name: unit
        settings: {approval_max_age_seconds: 100}
        rules:
          - id: fs.outside
            effect: forbid
            when: {arguments: [{pointer: /path, present: true}]}
            unless: {arguments: [{pointer: /path, path_within: [/workspace]}]}
            reason: "{tool}: path outside the workspace"
            tags: [maestro:L3, asi:02]
          - id: export.approve
            effect: require_approval
            when: {tools: ["export_*"]}
            reason: "{user} must get approval for {tool}"
            tags: [maestro:L6]
          - id: read.permit
            effect: permit
            when: {tools: [read, "export_*"], roles: [analyst]}
            reason: "{role} may use {tool}"
            tags: [maestro:L3]
          - id: rate
            effect: forbid
            when: {tools: [read], rate_exceeded: {max_calls: 2, window_seconds: 10}}
            reason: too fast
            tags: [asi:08]
          - id: flow
            effect: forbid
            when: {context_labels_any: [secret], tool_writes_outside_workspace: true}
            reason: "secret in {labels}"
            tags: [maestro:L2, nhi:02]
        """

    static func facts(_ name: String, risk: RiskLevel = .low, outside: Bool = false) -> ToolFacts {
        ToolFacts(
            name: name, version: "1", risk: risk, writesOutsideWorkspace: outside, pinnedDigest: digest,
            currentDigest: digest)
    }

    static func input(
        _ tool: String, _ arguments: JSONValue, role: String = "analyst", context: PolicyInput.RunContext = .init(),
        outside: Bool = false
    ) -> PolicyInput {
        PolicyInput(
            toolName: tool, arguments: arguments, tool: facts(tool, outside: outside),
            principal: .init(user: "ana", role: role, workflow: "w", agent: "a"), context: context)
    }

    let policy: Policy

    init() throws {
        policy = try Policy(yaml: Self.policyText)
    }

    @Test("a permit allows, with its rule id, rendered reason and tags")
    func permit() {
        let d = policy.evaluate(Self.input("read", ["path": "notes.md"]))
        #expect(d.effect == .allow)
        #expect(d.rules == ["read.permit"])
        #expect(d.reasons == ["analyst may use read"])
        #expect(d.tags == ["maestro:L3"])
        #expect(d.policyDigest == policy.digest)
    }

    @Test("forbid overrides permit")
    func forbidWins() {
        let d = policy.evaluate(Self.input("read", ["path": "/etc/passwd"]))
        #expect(d.effect == .deny)
        #expect(d.rules == ["fs.outside"])
        #expect(d.reasons == ["read: path outside the workspace"])
    }

    @Test("nothing matching denies by default")
    func defaultDeny() {
        let d = policy.evaluate(Self.input("read", ["path": "a"], role: "guest"))
        #expect(d.effect == .deny)
        #expect(d.rules == [BuiltinGuard.defaultDenyID])
        #expect(d.tags == BuiltinGuard.defaultDenyTags)
    }

    @Test("approvals are bound to the exact tool and arguments, and expire")
    func approvals() {
        let arguments: JSONValue = ["to": "share", "path": "/workspace/r.md"]
        let digest = ArgumentDigest.digest(tool: "export_report", arguments: arguments)
        #expect(policy.evaluate(Self.input("export_report", arguments)).effect == .ask)

        let approved = PolicyInput.RunContext(
            approvals: [.init(tool: "export_report", argumentsDigest: digest, by: "bob", at: 50)], now: 100)
        let allowed = policy.evaluate(Self.input("export_report", arguments, context: approved))
        #expect(allowed.effect == .allow)
        #expect(allowed.rules == ["export.approve", "read.permit"])
        #expect(allowed.approvals == ["bob@50"])

        let other: JSONValue = ["to": "share", "path": "/workspace/all.csv"]
        #expect(policy.evaluate(Self.input("export_report", other, context: approved)).effect == .ask)

        var stale = approved
        stale.now = 151
        #expect(policy.evaluate(Self.input("export_report", arguments, context: stale)).effect == .ask)
    }

    @Test("separation of duties: the principal's own approval does not satisfy the rule; someone else's does")
    func separationOfDuties() throws {
        let separated = try Policy(
            yaml: """
                airlock_policy: 1
                name: sod
                rules:
                  - id: export.second-person
                    effect: require_approval
                    approval: {separate_from_principal: true}
                    when: {tools: [export_report]}
                    reason: "someone other than {user} must approve {tool}"
                    tags: [maestro:L6, asi:03]
                  - id: export.permit
                    effect: permit
                    when: {tools: [export_report]}
                    reason: "{role} may export"
                    tags: [maestro:L3]
                """)
        let arguments: JSONValue = ["path": "/workspace/r.md"]
        let digest = ArgumentDigest.digest(tool: "export_report", arguments: arguments)
        let ask = separated.evaluate(Self.input("export_report", arguments))
        #expect(ask.effect == .ask)
        #expect(ask.separateFromPrincipal)
        #expect(ask.json["separate_from_principal"] == .bool(true))
        #expect(ask.text.contains("approver: someone other than the run's principal"))
        // Without the setting the same ask says nothing of it.
        #expect(policy.evaluate(Self.input("export_report", arguments)).json["separate_from_principal"] == nil)

        let byAna = PolicyInput.RunContext(
            approvals: [.init(tool: "export_report", argumentsDigest: digest, by: "ana", at: 5)], now: 10)
        #expect(separated.evaluate(Self.input("export_report", arguments, context: byAna)).effect == .ask)
        #expect(policy.evaluate(Self.input("export_report", arguments, context: byAna)).effect == .allow)
        let byBob = PolicyInput.RunContext(
            approvals: [.init(tool: "export_report", argumentsDigest: digest, by: "bob", at: 5)], now: 10)
        let allowed = separated.evaluate(Self.input("export_report", arguments, context: byBob))
        #expect(allowed.effect == .allow)
        #expect(allowed.approvals == ["bob@5"])
    }

    @Test("the argument digest is SHA-256 of the canonical {arguments, tool}")
    func argumentDigest() {
        let a = ArgumentDigest.digest(tool: "t", arguments: ["b": 1, "a": "x"])
        let expected = SHA256.hex(Array(#"{"arguments":{"a":"x","b":1},"tool":"t"}"#.utf8))
        #expect(a == expected)
        #expect(a != ArgumentDigest.digest(tool: "u", arguments: ["b": 1, "a": "x"]))
    }

    @Test("rate limits count recent calls of the same tool inside the window")
    func rateLimit() {
        let calls = [
            PolicyInput.CallRecord(tool: "read", at: 95), .init(tool: "read", at: 99), .init(tool: "x", at: 99),
        ]
        let burst = PolicyInput.RunContext(recentCalls: calls, now: 100)
        #expect(policy.evaluate(Self.input("read", ["path": "a"], context: burst)).rules == ["rate"])
        let later = PolicyInput.RunContext(recentCalls: calls, now: 106)
        #expect(policy.evaluate(Self.input("read", ["path": "a"], context: later)).effect == .allow)
    }

    @Test("data-flow rules see the labels in the context and the tool's writes")
    func dataFlow() {
        let context = PolicyInput.RunContext(labels: ["secret"])
        let d = policy.evaluate(Self.input("export_x", [:], context: context, outside: true))
        #expect(d.effect == .deny)
        #expect(d.rules == ["flow"])
        #expect(d.reasons == ["secret in secret"])
        #expect(d.tags == ["maestro:L2", "nhi:02"])
    }

    @Test("guards fire before any rule and no permit overrides them")
    func guards() {
        var unknown = Self.input("read", ["path": "a"])
        unknown.tool = nil
        #expect(policy.evaluate(unknown).rules == ["builtin.unknown-tool"])

        var drift = Self.input("read", ["path": "a"])
        drift.tool?.currentDigest = String(repeating: "d", count: 64)
        drift.tool?.schemaErrors = ["/path: expected string"]
        drift.workflowAllowedTools = ["other"]
        let d = policy.evaluate(drift)
        #expect(d.effect == .deny)
        #expect(d.rules == ["builtin.schema-invalid", "builtin.digest-drift", "builtin.not-in-workflow"])
        #expect(d.tags == ["asi:02", "asi:04", "maestro:L3", "maestro:L4", "maestro:L7"])
    }

    @Test("the same input gives byte-identical decision JSON")
    func deterministic() throws {
        let input = Self.input(
            "export_report", ["path": "/workspace/r.md", "n": 1.5], context: .init(labels: ["b", "a"]))
        let first = policy.evaluate(input).json.canonicalString
        for _ in 0..<50 { #expect(policy.evaluate(input).json.canonicalString == first) }
        let reloaded = try Policy(yaml: Self.policyText)
        #expect(reloaded.evaluate(input).json.canonicalString == first)
    }

    @Test("decision inputs round-trip through their JSON form")
    func inputRoundTrip() throws {
        let approval = PolicyInput.Approval(tool: "t", argumentsDigest: "ab", by: "bob", at: 3)
        let original = PolicyInput(
            toolName: "t", arguments: ["x": [1, "y"]], tool: Self.facts("t", risk: .high), workflowAllowedTools: ["t"],
            principal: .init(user: "u", role: "r", workflow: "w", agent: "a"),
            context: .init(
                step: 2, callsByTool: ["t": 1], totalCalls: 1, elapsedSeconds: 2.5, outputBytes: 10, labels: ["pii"],
                approvals: [approval], recentCalls: [.init(tool: "t", at: 1)], now: 4))
        let decoded = try PolicyInput(json: try JSONParser().parse(original.json.canonicalString))
        #expect(decoded == original)
    }

    @Test("malformed inputs name the field")
    func badInput() throws {
        let json = try JSONParser().parse(#"{"tool": 3, "facts": {"name": "t", "risk": "huge"}, "extra": 1}"#)
        let error = try #require(throws: PolicyError.self) { try PolicyInput(json: json) }
        let paths = Set(error.problems.map(\.path))
        #expect(paths.isSuperset(of: ["/tool", "/extra", "/facts/risk", "/facts/version"]))
        #expect(error.code == .invalidInput)
    }

    @Test("model argument text with duplicate keys becomes a schema error")
    func duplicateKeys() {
        let (arguments, errors) = PolicyInput.parseArguments(#"{"path": "a", "path": "/etc/passwd"}"#)
        #expect(arguments == .null)
        #expect(errors.first?.contains("duplicate key") == true)
        #expect(PolicyInput.parseArguments(#"{"path": "a"}"#).errors.isEmpty)
    }
}
