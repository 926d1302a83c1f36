import AirlockCore
import Foundation
import Testing

@testable import Policy

/// ``Policy/necessaryConditions(for:principal:)``: which rules imply a condition on every allowed
/// call, and which do not.
@Suite("Necessary conditions of an allow")
struct NecessaryConditionsTests {
    static let policyText = """
        airlock_policy: 1
        name: narrowing
        settings: {workspace: /workspace}
        rules:
          - id: paths.roots
            effect: forbid
            when: {arguments: [{pointer: /path, present: true}]}
            unless: {arguments: [{pointer: /path, path_within: [/workspace, /data/logs]}]}
            reason: path outside
            tags: [asi:02]
          - id: note.size
            effect: forbid
            when: {tools: [note]}
            unless: {arguments: [{pointer: /text, type: string, length: {min: 1, max: 100}}]}
            reason: size
            tags: [asi:08]
          - id: pattern.shape
            effect: forbid
            when: {tools: [search], arguments: [{pointer: /pattern, regex: '-.*'}]}
            reason: dash
            tags: [asi:02]
          - id: secret.notes
            effect: forbid
            when: {tools: [note], context_labels_any: [secret]}
            unless: {arguments: [{pointer: /text, length: {max: 5}}]}
            reason: secret
            tags: [nhi:02]
          - id: big.ask
            effect: require_approval
            when: {tools: [search], arguments: [{pointer: /max, range: {min: 100}}]}
            reason: big
            tags: [maestro:L6]
          - id: shell.never
            effect: forbid
            when: {tools: [shell]}
            reason: never
            tags: [asi:05]
          - id: permit.search-levels
            effect: permit
            when: {tools: [search], roles: [analyst], arguments: [{pointer: /level, one_of: [ERROR, WARN]}, {pointer: /max, type: integer, range: {min: 1, max: 50}}]}
            reason: levels
            tags: [maestro:L3]
          - id: permit.search-glob
            effect: permit
            when: {tools: [search], roles: [analyst], arguments: [{pointer: /glob, regex: '[a-z]+\\.log'}]}
            reason: glob
            tags: [maestro:L3]
          - id: permit.search-reviewer
            effect: permit
            when: {tools: [search], roles: [reviewer]}
            reason: reviewers
            tags: [maestro:L3]
          - id: permit.rest
            effect: permit
            when: {tools: [note, read, shell]}
            reason: rest
            tags: [maestro:L3]
        """

    static func facts(_ name: String) -> ToolFacts {
        let digest = String(repeating: "c", count: 64)
        return ToolFacts(name: name, version: "1", risk: .low, pinnedDigest: digest, currentDigest: digest)
    }

    static let analyst = PolicyInput.Principal(user: "ana", role: "analyst", workflow: "w", agent: "a")
    let policy: Policy

    init() throws {
        policy = try Policy(yaml: Self.policyText)
    }

    @Test("a forbid with an argument-only unless makes its constraints required")
    func unlessBecomesRequired() throws {
        let note = policy.necessaryConditions(for: Self.facts("note"), principal: Self.analyst)
        #expect(!note.isAlwaysDenied)
        #expect(note.anyOf == nil)
        let text = try #require(note.all.first { $0.pointer == "/text" })
        #expect(text.presence == .required)
        #expect(text.type == "string" && text.minLength == 1 && text.maxLength == 100)
        // secret.notes depends on the context: it adds nothing (only one /text requirement).
        #expect(note.all.filter { $0.pointer == "/text" }.count == 1)
    }

    @Test("a present-triggered forbid with a path_within unless constrains the path when present")
    func pathPrefixWhenPresent() throws {
        let read = policy.necessaryConditions(for: Self.facts("read"), principal: Self.analyst)
        let path = try #require(read.all.first { $0.pointer == "/path" })
        #expect(path.presence == .ifPresent)
        #expect(path.pathWithin == ["/workspace", "/data/logs"])
        let any = PathNormalizer.anyPathCharacter
        #expect(
            path.pathPattern
                == #"(?:(?:[^/~"\\\x00-\x1F\x7F]|\\")"# + any + "*|" + #"/(?:\.?/)*workspace(?:/"# + any + "*)?|"
                + #"/(?:\.?/)*data/(?:\.?/)*logs(?:/"# + any + "*)?)")
    }

    @Test("permits that all constrain the arguments become alternatives; an unconstrained one removes them")
    func permitAlternatives() throws {
        let search = policy.necessaryConditions(for: Self.facts("search"), principal: Self.analyst)
        let alternatives = try #require(search.anyOf)
        #expect(alternatives.count == 2)
        #expect(alternatives[0].map(\.pointer) == ["/level", "/max"])
        #expect(alternatives[0][0].oneOf == ["ERROR", "WARN"])
        #expect(
            alternatives[0][1].type == "integer" && alternatives[0][1].minimum == 1 && alternatives[0][1].maximum == 50)
        #expect(alternatives[1][0].regex == #"[a-z]+\.log"#)
        // forbid on a pattern and require_approval imply nothing about /pattern or /max.
        #expect(!search.all.contains { $0.pointer == "/pattern" || $0.pointer == "/max" })
        let reviewer = PolicyInput.Principal(user: "rita", role: "reviewer", workflow: "w", agent: "a")
        #expect(policy.necessaryConditions(for: Self.facts("search"), principal: reviewer).anyOf == nil)
    }

    @Test("tools every call of which is denied are reported with the rule")
    func alwaysDenied() {
        #expect(
            policy.necessaryConditions(for: Self.facts("shell"), principal: Self.analyst).deniedBy == ["shell.never"])
        #expect(
            policy.necessaryConditions(for: Self.facts("other"), principal: Self.analyst).deniedBy == ["default.deny"])
        let guest = PolicyInput.Principal(user: "g", role: "guest", workflow: "w", agent: "a")
        #expect(policy.necessaryConditions(for: Self.facts("search"), principal: guest).isAlwaysDenied)
    }

    @Test("every raw path the normaliser places within the roots matches the path pattern")
    func pathPatternSoundness() throws {
        let normalizer = PathNormalizer(workspace: "/workspace")
        let roots = ["/workspace", "/data/logs", "/opt/a.b+c"]
        let pattern = try #require(normalizer.rawPathPattern(within: roots))
        let regex = try NSRegularExpression(pattern: "\\A(?:" + pattern + ")\\z")
        func matches(_ s: String) -> Bool {
            regex.firstMatch(in: s, range: NSRange(location: 0, length: s.utf16.count)) != nil
        }
        let pieces = [
            "", "/", "//", ".", "./", "..", "workspace", "data", "logs", "opt", "a.b+c", "x", "~", "-", "\"", "\n",
        ]
        var accepted = 0
        // Every path of up to 4 pieces: those the normaliser places within a root must match, in
        // the form the pattern is applied to (the string's JSON text: a quote escaped).
        func visit(_ prefix: String, depth: Int) {
            if case .path(let p) = normalizer.normalize(prefix),
                roots.contains(where: { PathNormalizer.isWithin(p, root: $0) })
            {
                accepted += 1
                let text = prefix.replacingOccurrences(of: "\"", with: "\\\"")
                #expect(matches(text), "\(prefix.debugDescription) is accepted by the policy but not by the pattern")
            }
            guard depth < 4 else { return }
            for piece in pieces { visit(prefix + piece, depth: depth + 1) }
        }
        visit("", depth: 0)
        #expect(accepted > 1000)
        for outside in [
            "/etc/passwd", "/data/other", "/workspacex", "/data/logsX/a", "~/x", "/opt/aXb+c", "a\"b", "a\\b",
        ] {
            #expect(!matches(outside), "\(outside) should not match")
        }
        #expect(PathNormalizer(workspace: "/home").rawPathPattern(within: ["/home/out"]) == nil)
        #expect(
            PathNormalizer(workspace: "/home").rawPathPattern(within: ["/data"])
                == #"(?:/(?:\.?/)*data(?:/"# + PathNormalizer.anyPathCharacter + "*)?)")
    }
}
