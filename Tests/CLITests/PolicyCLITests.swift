import Foundation
import Testing

/// `airlock policy …` end to end: the built binary, real files, output and exit codes.
@Suite("airlock policy")
struct PolicyCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let baseline = root.appendingPathComponent("manifests/policies/baseline.yaml").path
    static let digest = String(repeating: "e", count: 64)

    static func callFile(_ directory: URL, tool: String, arguments: String, risk: String = "low") throws -> String {
        let text = """
            {"tool": "\(tool)", "arguments": \(arguments),
             "principal": {"user": "ana", "role": "analyst", "workflow": "w", "agent": "a"},
             "facts": {"name": "\(tool)", "version": "1.0.0", "risk": "\(risk)",
                       "pinned_digest": "\(digest)", "current_digest": "\(digest)"}}
            """
        let url = directory.appendingPathComponent("\(tool)-\(UUID().uuidString).json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("check: exit 0 allow, 1 deny, 2 ask, with effect, rule ids, reasons and tags")
    func checkExitCodes() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let allow = try CLI.run([
            "policy", "check", "--policy", Self.baseline, "--call",
            try Self.callFile(dir, tool: "workspace.read", arguments: #"{"path": "notes.md"}"#),
        ])
        #expect(allow.status == 0)
        #expect(allow.stdout.hasPrefix("ALLOW"))
        #expect(allow.stdout.contains("permit.read-tools: analyst may use the read-only tool workspace.read"))

        let deny = try CLI.run([
            "policy", "check", "--policy", Self.baseline, "--call",
            try Self.callFile(dir, tool: "workspace.read", arguments: #"{"path": "../../etc/shadow"}"#),
        ])
        #expect(deny.status == 1)
        #expect(deny.stdout.hasPrefix("DENY"))
        #expect(deny.stdout.contains("paths.outside-sandbox-roots"))
        #expect(deny.stdout.contains("tags: asi:02 maestro:L3"))

        let ask = try CLI.run([
            "policy", "check", "--policy", Self.baseline, "--call",
            try Self.callFile(dir, tool: "report_export", arguments: #"{"path": "r.md"}"#, risk: "high"),
        ])
        #expect(ask.status == 2)
        #expect(ask.stdout.hasPrefix("ASK"))
        #expect(ask.stdout.contains("risk.high-needs-approval"))
    }

    @Test("check --json is byte-identical across runs; --context replaces the context")
    func checkJSON() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let call = try Self.callFile(dir, tool: "workspace.read", arguments: #"{"path": "a.txt"}"#)
        let context = dir.appendingPathComponent("ctx.json")
        try #"{"total_calls": 40, "now": 1000}"#.write(to: context, atomically: true, encoding: .utf8)
        let args = ["policy", "check", "--policy", Self.baseline, "--call", call, "--context", context.path, "--json"]
        let first = try CLI.run(args)
        let second = try CLI.run(args)
        #expect(first.status == 1)
        #expect(first.stdout == second.stdout)
        #expect(first.stdout.contains(#""effect": "deny""#))
        #expect(first.stdout.contains(#""budget.run""#))
    }

    @Test("check: malformed call files name the field (65); missing files exit 66")
    func checkErrors() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.json")
        try #"{"tool": "x", "facts": {"name": "x", "risk": "extreme"}}"#.write(
            to: bad, atomically: true, encoding: .utf8)
        let malformed = try CLI.run(["policy", "check", "--policy", Self.baseline, "--call", bad.path])
        #expect(malformed.status == 65)
        #expect(malformed.stderr.contains("/facts/risk"))
        #expect(malformed.stderr.contains(#"must be one of low, medium, high, critical (found "extreme")"#))

        let dup = dir.appendingPathComponent("dup.json")
        try #"{"tool": "x", "tool": "y"}"#.write(to: dup, atomically: true, encoding: .utf8)
        let duplicate = try CLI.run(["policy", "check", "--policy", Self.baseline, "--call", dup.path])
        #expect(duplicate.status == 65)
        #expect(duplicate.stderr.contains("duplicate key"))

        let missing = try CLI.run(["policy", "check", "--policy", "/nonexistent/p.yaml", "--call", bad.path])
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("/nonexistent/p.yaml"))
    }

    @Test("test: PASS/FAIL per case, a summary line, exit 1 on any failure")
    func testCommand() throws {
        let shipped = try CLI.run([
            "policy", "test", Self.root.appendingPathComponent("manifests/policies/baseline.tests.yaml").path,
            Self.root.appendingPathComponent("manifests/policies/workflows.tests.yaml").path,
        ])
        #expect(shipped.status == 0)
        #expect(shipped.stdout.contains("PASS  analyst reads a workspace file"))
        #expect(shipped.stdout.contains(" passed, 0 failed"))

        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(
            atPath: Self.baseline, toPath: dir.appendingPathComponent("baseline.yaml").path)
        let tests = dir.appendingPathComponent("t.yaml")
        try """
        airlock_policy_test: 1
        policy: baseline.yaml
        cases:
          - {name: unknown is denied, input: {tool: nope}, expect: {effect: deny, rules: [builtin.unknown-tool]}}
          - {name: wrongly expects allow, input: {tool: nope}, expect: {effect: allow}}
        """.write(to: tests, atomically: true, encoding: .utf8)
        let run = try CLI.run(["policy", "test", tests.path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("PASS  unknown is denied"))
        #expect(run.stdout.contains("FAIL  wrongly expects allow (line 5)"))
        #expect(run.stdout.contains("1 passed, 1 failed"))
    }

    @Test("lint: findings with file, line and path; exit 65 on errors, 1 on warnings, 0 when clean")
    func lint() throws {
        let clean = try CLI.run(["policy", "lint", Self.baseline])
        #expect(clean.status == 0)
        #expect(clean.stdout.contains("0 error(s), 0 warning(s)"))

        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.yaml")
        try """
        airlock_policy: 1
        name: bad
        rules:
          - {id: a, effect: forbid, when: {tools: [x]}, reason: r, tags: [asi:02]}
          - {id: b, effect: permit, when: {tools: [x], roles: [r]}, reason: r, tags: [maestro:L3], extra: 1}
        """.write(to: bad, atomically: true, encoding: .utf8)
        let broken = try CLI.run(["policy", "lint", bad.path])
        // It does not load: malformed input (65); warnings on a policy that loads are 1.
        #expect(broken.status == 65)
        #expect(broken.stdout.contains("bad.yaml:5: error: /rules/1/extra: unknown field \"extra\" (allowed: "))

        try """
        airlock_policy: 1
        name: shadow
        rules:
          - {id: a, effect: forbid, when: {tools: [x]}, reason: r, tags: [asi:02]}
          - {id: b, effect: permit, when: {tools: [x], roles: [r]}, reason: r, tags: [maestro:L3]}
        """.write(to: bad, atomically: true, encoding: .utf8)
        let shadowed = try CLI.run(["policy", "lint", bad.path])
        #expect(shadowed.status == 1)
        #expect(shadowed.stdout.contains("bad.yaml:5: warning: /rules/1: rule 'b' never changes a decision"))
    }
}
