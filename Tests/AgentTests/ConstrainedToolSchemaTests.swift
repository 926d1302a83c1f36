import Agent
import AirlockCore
import AirlockTestSupport
import Foundation
import Model
import Policy
import Testing
import Tools

/// The policy compiled into the constrained reply schema: what is narrowed, what is not, and that
/// every call the schema excludes is one the policy (or the manifest schema) refuses.
@Suite("Constrained tool schema")
struct ConstrainedToolSchemaTests {
    static let manifestText = """
        name: demo.search
        version: 1.0.0
        description: Search things.
        owner: tests@example.org
        executable: {path: search.sh, sha256: \(String(repeating: "a", count: 64))}
        argv: []
        stdin: arguments
        input:
          type: object
          additionalProperties: false
          required: [pattern]
          properties:
            pattern: {type: string, minLength: 1, maxLength: 64}
            level: {type: string}
            max: {type: number, minimum: 0}
            glob: {type: string}
            path: {type: string, maxLength: 100}
            text: {type: string}
        output: {format: json, maxBytes: 4KiB}
        risk: low
        """

    static let policyText = """
        airlock_policy: 1
        name: narrowing
        rules:
          - id: paths.roots
            effect: forbid
            when: {arguments: [{pointer: /path, present: true}]}
            unless: {arguments: [{pointer: /path, path_within: [/workspace, /data/logs]}]}
            reason: path outside
            tags: [asi:02]
          - id: text.size
            effect: forbid
            when: {tools: [demo.search]}
            unless: {arguments: [{pointer: /pattern, type: string, length: {max: 32}}]}
            reason: size
            tags: [asi:08]
          - id: pattern.dash
            effect: forbid
            when: {arguments: [{pointer: /pattern, regex: '-.*'}]}
            reason: dash
            tags: [asi:02]
          - id: approval.max
            effect: require_approval
            when: {arguments: [{pointer: /max, range: {min: 10}}]}
            reason: big
            tags: [maestro:L6]
          - id: permit.levels
            effect: permit
            when: {tools: [demo.search], roles: [analyst], arguments: [{pointer: /level, one_of: [ERROR, WARN]}, {pointer: /max, type: integer, range: {min: 1, max: 50}}]}
            reason: levels
            tags: [maestro:L3]
          - id: permit.glob
            effect: permit
            when: {tools: [demo.search], roles: [analyst], arguments: [{pointer: /glob, regex: '[a-z]+\\.log'}]}
            reason: glob
            tags: [maestro:L3]
          - id: permit.reviewer
            effect: permit
            when: {tools: [demo.search], roles: [reviewer]}
            reason: reviewers
            tags: [maestro:L3]
        """

    static func facts(_ manifest: ToolManifest) -> ToolFacts {
        ToolFacts(
            name: manifest.name, version: manifest.version, risk: manifest.facts.risk,
            pinnedDigest: manifest.executable.sha256, currentDigest: manifest.executable.sha256)
    }

    static func principal(_ role: String, workflow: String = "w") -> PolicyInput.Principal {
        PolicyInput.Principal(user: "ana", role: role, workflow: workflow, agent: "airlock-agent")
    }

    static func shipped(_ names: [String]) throws -> [ToolManifest] {
        try names.map {
            try ManifestFile.load(AgentFixture.repository.appendingPathComponent("manifests/tools/\($0).yaml")).manifest
        }
    }

    static func shippedPolicy() throws -> Policy {
        try Policy(
            yaml: String(
                contentsOf: AgentFixture.repository.appendingPathComponent("manifests/policies/workflows.yaml"),
                encoding: .utf8))
    }

    @Test("enum, integer range, regex and path prefix from the policy land in the schema; an approval rule does not")
    func narrowing() throws {
        let manifest = try ManifestDecoder().decode(text: Self.manifestText)
        let policy = try Policy(yaml: Self.policyText)
        let schema = ConstrainedToolSchema(manifests: [manifest], policy: policy, principal: Self.principal("analyst"))
        #expect(schema.excluded.isEmpty)
        let parameters = try #require(schema.tools.first?["function"]?["parameters"])
        let variants = try #require(parameters["anyOf"]?.arrayValue)
        #expect(variants.count == 2)
        let common: [String: JSONValue] = [
            "pattern": ["type": "string", "minLength": 1, "maxLength": 32],
            "path": [
                "type": "string", "maxLength": 100,
                "pattern": .string(
                    "^(?:"
                        + (policy.necessaryConditions(for: Self.facts(manifest), principal: Self.principal("analyst"))
                            .all
                            .first { $0.pointer == "/path" }?.pathPattern ?? "-") + ")$"),
            ],
            "text": ["type": "string"],
        ]
        var levels = common
        levels["level"] = ["type": "string", "enum": ["ERROR", "WARN"]]
        levels["max"] = ["type": "integer", "minimum": 1, "maximum": 50]
        levels["glob"] = ["type": "string"]
        #expect(
            variants[0]
                == [
                    "type": "object", "additionalProperties": false, "required": ["pattern", "level", "max"],
                    "properties": .object(levels),
                ])
        var glob = common
        glob["level"] = ["type": "string"]
        glob["max"] = ["type": "number", "minimum": 0]
        glob["glob"] = ["type": "string", "pattern": #"^(?:[a-z]+\.log)$"#]
        #expect(
            variants[1]
                == [
                    "type": "object", "additionalProperties": false, "required": ["pattern", "glob"],
                    "properties": .object(glob),
                ])
        // A reviewer's permit constrains nothing: only the forbids' conditions remain.
        let reviewer = ConstrainedToolSchema(
            manifests: [manifest], policy: policy, principal: Self.principal("reviewer"))
        let plain = try #require(reviewer.tools.first?["function"]?["parameters"])
        #expect(plain["anyOf"] == nil)
        #expect(plain["properties"]?["level"] == ["type": "string"])
        #expect(plain["properties"]?["max"] == ["type": "number", "minimum": 0])
        #expect(plain["properties"]?["pattern"]?["maxLength"] == 32)
        let guest = ConstrainedToolSchema(manifests: [manifest], policy: policy, principal: Self.principal("guest"))
        #expect(guest.tools.isEmpty)
        #expect(guest.excluded == ["demo.search": ["default.deny"]])
    }

    @Test("the shipped workflows: only their tools, notes sized, paths kept in the roots, rows bounded")
    func shippedWorkflows() throws {
        let policy = try Self.shippedPolicy()
        let triage = ConstrainedToolSchema(
            manifests: try Self.shipped(["logs.search", "workspace.note", "workspace.read", "sql.select"]),
            policy: policy, principal: Self.principal("analyst", workflow: "log-triage"))
        #expect(
            triage.tools.compactMap { $0["function"]?["name"]?.stringValue } == [
                "logs.search", "workspace.note", "workspace.read",
            ])
        #expect(triage.excluded == ["sql.select": ["default.deny"]])
        let note = try #require(triage.tools[1]["function"]?["parameters"]?["properties"]?["text"])
        #expect(note == ["type": "string", "minLength": 1, "maxLength": 4000])
        let path = try #require(triage.tools[2]["function"]?["parameters"]?["properties"]?["path"]?["pattern"])
        let any = PathNormalizer.anyPathCharacter
        #expect(
            path
                == .string(
                    #"^(?:(?:(?:[^/~"\\\x00-\x1F\x7F]|\\")"# + any + #"*|/(?:\.?/)*workspace(?:/"# + any
                        + #"*)?|/(?:\.?/)*data(?:/"# + any + "*)?))$"))
        let report = ConstrainedToolSchema(
            manifests: try Self.shipped(["sql.select"]), policy: policy,
            principal: Self.principal("analyst", workflow: "dataset-report"))
        let rows = try #require(report.tools.first?["function"]?["parameters"])
        #expect(rows["properties"]?["max_rows"] == ["type": "integer", "minimum": 1, "maximum": 500])
        #expect(rows["required"] == ["query", "max_rows"])
    }

    @Test("portable regexes only")
    func grammarPatterns() {
        #expect(ConstrainedToolSchema.grammarPattern(#"[a-z]+\.log"#) == #"^(?:[a-z]+\.log)$"#)
        #expect(ConstrainedToolSchema.grammarPattern("(?:ERROR|WARN){1,2}x?") == "^(?:(?:ERROR|WARN){1,2}x?)$")
        for pattern in [
            #"\d+"#, #"\s*-.*"#, "(?i)select", "(?=a)b", "a$", "^a", #"[\w]"#, "[[:alpha:]]", "a{,2}", "[a", "a.b",
            "[^;]+",
            #"a"b"#, #"a\\b"#,
        ] {
            #expect(ConstrainedToolSchema.grammarPattern(pattern) == nil, "\(pattern)")
        }
    }

    /// Values for each argument: valid and invalid types, boundaries, attack shapes.
    static let pool: [JSONValue?] = [
        nil, "ERROR", "WARN", "INFO", "", "-e", " -x", "app.log", "x.csv", "notes/a.md", "/workspace/n.md",
        "/data/logs/app.log", "/data/other", "/etc/passwd", "../x", "~/x", "SELECT 1", "with a as (select 1) select 1",
        "DROP TABLE t", .string(String(repeating: "y", count: 32)), .string(String(repeating: "y", count: 33)),
        .string(String(repeating: "z", count: 300)), .string(String(repeating: "n", count: 4000)),
        .string(String(repeating: "n", count: 4001)),
        0, 1, 10, 50, 51, 100, 500, 501, 2000, 2.5, true, .null, ["x"],
    ]

    @Test("soundness: every generated call the schema rejects, the policy denies (even with an approval)")
    func soundnessCorpus() throws {
        let inline = try ManifestDecoder().decode(text: Self.manifestText)
        let settings: [(Policy, [ToolManifest], PolicyInput.Principal)] = [
            (try Policy(yaml: Self.policyText), [inline], Self.principal("analyst")),
            (try Policy(yaml: Self.policyText), [inline], Self.principal("reviewer")),
            (
                try Self.shippedPolicy(), try Self.shipped(["logs.search", "workspace.note", "workspace.read"]),
                Self.principal("analyst", workflow: "log-triage")
            ),
            (
                try Self.shippedPolicy(), try Self.shipped(["sql.select", "csv.summarize", "workspace.note"]),
                Self.principal("analyst", workflow: "dataset-report")
            ),
        ]
        var rejected = 0
        var narrowedOnly = 0
        var checked = 0
        var generator = SplitMix64(seed: 8)
        for (policy, manifests, principal) in settings {
            let offer = ConstrainedToolSchema(manifests: manifests, policy: policy, principal: principal)
            let reply = try JSONSchema.compile(ConstrainedToolCalling.replySchema(tools: offer.tools)).get()
            for manifest in manifests {
                let keys = manifest.input.document["properties"]?.objectValue?.keys.sorted() ?? []
                for _ in 0..<1500 {
                    var arguments: [String: JSONValue] = [:]
                    for key in keys {
                        if let value = Self.pool.randomElement(using: &generator) ?? nil { arguments[key] = value }
                    }
                    checked += 1
                    let call: JSONValue = ["tool": .string(manifest.name), "tool_input": .object(arguments)]
                    guard !reply.validate(call).isEmpty else { continue }
                    rejected += 1
                    let schemaErrors = manifest.input.validate(.object(arguments)).map(\.description)
                    if schemaErrors.isEmpty { narrowedOnly += 1 }
                    let digest = manifest.executable.sha256
                    let facts = manifest.facts
                    var input = PolicyInput(
                        toolName: manifest.name, arguments: .object(arguments),
                        tool: ToolFacts(
                            name: manifest.name, version: manifest.version, risk: facts.risk,
                            readsLabels: facts.readsLabels, outputLabels: facts.outputLabels,
                            writesOutsideWorkspace: facts.writesOutsideWorkspace, pinnedDigest: digest,
                            currentDigest: digest, schemaErrors: schemaErrors),
                        principal: principal)
                    let effect = policy.evaluate(input).effect
                    #expect(effect != .allow, "\(manifest.name) \(JSONValue.object(arguments).canonicalString)")
                    input.context.approvals = [
                        PolicyInput.Approval(
                            tool: manifest.name,
                            argumentsDigest: ArgumentDigest.digest(tool: manifest.name, arguments: .object(arguments)),
                            by: "bob", at: 0)
                    ]
                    #expect(policy.evaluate(input).effect != .allow)
                }
            }
        }
        // The corpus exercises the narrowing: many calls the manifest schema alone would accept.
        #expect(checked == 1500 * 8)
        #expect(rejected > 1000)
        #expect(narrowedOnly > 20)
    }
}

/// A seeded generator, so that the corpus is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
