import AirlockCore
import Foundation
import Policy

/// Policy decisions over a generated 200-rule policy (20 tools × 10 rules: argument constraints,
/// path rules, budgets, rates, labels, approvals), against Cedar deciding the same requests over
/// the equivalent policy set through cedarpy's batch API, in rounds that alternate the two.
///
/// Where Cedar has no operator for a condition the host computes the fact and passes it in the
/// request's context, which favours the anchor: the count of recent calls in the rate window, the
/// query's length; Cedar has no regular expressions, so `like "-*"` stands for `-.*` and a
/// non-empty test for the query's character class. The benchmark first checks that both engines
/// allow exactly the same requests.
struct PolicyBench {
    /// Rules in the generated policy (10 per tool).
    var ruleCount = 200
    /// Requests per round (each engine decides all of them once per round).
    var requestsPerRound = 640
    /// Rounds, alternating Cedar and Airlock.
    var rounds = 15
    /// The Python with cedarpy installed (tools/bench's venv), or `nil` to skip the anchor.
    var python: String?
    /// The anchor script (Benchmarks/Anchors/cedar_anchor.py).
    var anchorScript: URL

    var tools: Int { max(1, ruleCount / 10) }

    /// The Airlock policy document.
    func policyText() -> String {
        var lines = ["airlock_policy: 1", "name: bench-\(ruleCount)", "settings: {workspace: /workspace}", "rules:"]
        for t in 0..<tools {
            let tool = "tool_\(t)"
            lines += [
                "  - {id: t\(t).permit-read, effect: permit, tags: [maestro:L3], reason: 'reads in workspace',",
                "     when: {tools: [\(tool)], roles: [analyst, developer], arguments: [",
                "       {pointer: /path, type: string, path_within: [/workspace, /data]},",
                "       {pointer: /limit, type: integer, range: {min: 1, max: 1000}}]}}",
                "  - {id: t\(t).pattern, effect: permit, tags: [maestro:L3], reason: 'query shape',",
                "     when: {tools: [\(tool)], arguments: [{pointer: /query, regex: '[A-Za-z0-9_ ,*=<>]{1,200}'}]}}",
                "  - {id: t\(t).no-options, effect: forbid, tags: [asi:02], reason: 'option injection',",
                "     when: {tools: [\(tool)], arguments: [{pointer: /pattern, regex: '-.*'}]}}",
                "  - {id: t\(t).budget, effect: forbid, tags: [asi:08], reason: 'budget',",
                "     when: {tools: [\(tool)], budget_exceeded: {calls_per_tool: 20, calls_per_run: 100}}}",
                "  - {id: t\(t).rate, effect: forbid, tags: [asi:08], reason: 'rate',",
                "     when: {tools: [\(tool)], rate_exceeded: {max_calls: 5, window_seconds: 60}}}",
                "  - {id: t\(t).secret-flow, effect: forbid, tags: [maestro:L2, nhi:02], reason: 'secret egress',",
                "     when: {tools: [\(tool)], context_labels_any: [secret], tool_writes_outside_workspace: true}}",
                "  - {id: t\(t).pii, effect: require_approval, tags: [maestro:L2], reason: 'pii',",
                "     when: {tools: [\(tool)], context_labels_any: [pii], tool_reads_labels_any: [pii]}}",
                "  - {id: t\(t).high-risk, effect: require_approval, tags: [maestro:L6], reason: 'risk',",
                "     when: {tools: [\(tool)], risk_at_least: high}}",
                "  - {id: t\(t).size, effect: forbid, tags: [asi:02], reason: 'oversize',",
                "     when: {tools: [\(tool)], arguments: [{pointer: /query, length: {min: 201}}]}}",
                "  - {id: t\(t).mode, effect: permit, tags: [maestro:L3], reason: 'mode',",
                "     when: {tools: [\(tool)], arguments: [{pointer: /mode, one_of: [read, stat, list]}]}}",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The same rules in Cedar. `require_approval` is a `forbid … unless { context.approved }`:
    /// Cedar has only permit and forbid.
    func cedarText() -> String {
        var out = ""
        for t in 0..<tools {
            let scope = "principal, action == Action::\"call\", resource == Tool::\"tool_\(t)\""
            out += """
                @id("t\(t).permit-read")
                permit(\(scope)) when { ["analyst", "developer"].contains(context.role) && context.args has path && (context.args.path like "/workspace/*" || context.args.path == "/workspace" || context.args.path like "/data/*" || context.args.path == "/data" || !(context.args.path like "/*")) && context.args has limit && context.args.limit >= 1 && context.args.limit <= 1000 };
                @id("t\(t).pattern")
                permit(\(scope)) when { context.args has query && context.args.query != "" && context.query_length <= 200 };
                @id("t\(t).no-options")
                forbid(\(scope)) when { context.args has pattern && context.args.pattern like "-*" };
                @id("t\(t).budget")
                forbid(\(scope)) when { context.calls_by_tool + 1 > 20 || context.total_calls + 1 > 100 };
                @id("t\(t).rate")
                forbid(\(scope)) when { context.recent_calls + 1 > 5 };
                @id("t\(t).secret-flow")
                forbid(\(scope)) when { context.labels.contains("secret") && context.tool.writes_outside_workspace };
                @id("t\(t).pii")
                forbid(\(scope)) when { context.labels.contains("pii") && context.tool.reads_labels.contains("pii") } unless { context.approved };
                @id("t\(t).high-risk")
                forbid(\(scope)) when { context.tool.risk >= 2 } unless { context.approved };
                @id("t\(t).size")
                forbid(\(scope)) when { context.args has query && context.query_length >= 201 };
                @id("t\(t).mode")
                permit(\(scope)) when { context.args has mode && ["read", "stat", "list"].contains(context.args.mode) };

                """
        }
        return out
    }

    /// Realistic inputs cycling over tools, roles, paths, labels and budgets.
    func inputs(count: Int = 64) -> [PolicyInput] {
        let digest = String(repeating: "ab", count: 32)
        return (0..<count).map { n in
            let tool = "tool_\(n * 7 % tools)"
            let path = ["/workspace/report.csv", "notes/today.md", "/data/logs/app.log", "/etc/passwd"][n % 4]
            let facts = ToolFacts(
                name: tool, version: "1.0.0", risk: [.low, .medium, .high][n % 3],
                readsLabels: n % 5 == 0 ? ["pii"] : [], outputLabels: ["internal"], writesOutsideWorkspace: n % 7 == 0,
                pinnedDigest: digest, currentDigest: digest)
            let context = PolicyInput.RunContext(
                step: Int64(n % 30), callsByTool: [tool: Int64(n % 25)], totalCalls: Int64(n % 90),
                elapsedSeconds: Double(n), outputBytes: Int64(n * 1000),
                labels: n % 3 == 0 ? ["pii"] : (n % 11 == 0 ? ["secret"] : []),
                recentCalls: (0..<(n % 6)).map { PolicyInput.CallRecord(tool: tool, at: 1000 + Double($0)) }, now: 1030)
            return PolicyInput(
                toolName: tool,
                arguments: [
                    "path": .string(path), "limit": .integer(Int64(n % 1200)), "query": "SELECT a, b FROM t",
                    "pattern": n % 9 == 0 ? "--exec" : "error", "mode": "read",
                ],
                tool: facts,
                principal: .init(
                    user: "u\(n % 3)", role: n % 4 == 0 ? "guest" : "analyst", workflow: "triage", agent: "agent-1"),
                context: context)
        }
    }

    /// The Cedar request for `input`: the facts the Airlock engine reads, in the request's context.
    func cedarRequest(_ input: PolicyInput) -> JSONValue {
        let facts = input.tool
        let window = input.context.now - 60
        let recent = input.context.recentCalls.filter { $0.at > window && $0.tool == input.toolName }.count
        let query = input.arguments["query"]?.stringValue ?? ""
        let risk: Int64 =
            switch facts?.risk ?? .low {
            case .low: 0
            case .medium: 1
            default: 2
            }
        return [
            "principal": .string("User::\"\(input.principal.user)\""), "action": "Action::\"call\"",
            "resource": .string("Tool::\"\(input.toolName)\""),
            "context": [
                "role": .string(input.principal.role), "args": input.arguments,
                "calls_by_tool": .integer(input.context.callsByTool[input.toolName] ?? 0),
                "total_calls": .integer(input.context.totalCalls), "recent_calls": .integer(Int64(recent)),
                "labels": .array(input.context.labels.sorted().map(JSONValue.string)),
                "query_length": .integer(Int64(query.count)), "approved": false,
                "tool": [
                    "risk": .integer(risk),
                    "reads_labels": .array((facts?.readsLabels ?? []).sorted().map(JSONValue.string)),
                    "writes_outside_workspace": .bool(facts?.writesOutsideWorkspace ?? false),
                ],
            ],
        ]
    }

    func run(scratch: URL) throws -> [Row] {
        let policy = try Policy(yaml: policyText())
        let base = inputs()
        let batch = (0..<requestsPerRound).map { base[$0 % base.count] }
        var cedar: CedarAnchor?
        if let python {
            let policies = scratch.appendingPathComponent("bench.cedar")
            let requests = scratch.appendingPathComponent("requests.json")
            try Data(cedarText().utf8).write(to: policies)
            try Data(JSONValue.array(base.map(cedarRequest)).canonicalString.utf8).write(to: requests)
            let anchor = try CedarAnchor(python: python, script: anchorScript, policies: policies, requests: requests)
            // Equivalence: both engines must allow exactly the same requests.
            let allowed = try anchor.decide()
            let ours = base.map { policy.evaluate($0).effect == .allow }
            guard allowed == ours else {
                let differ = zip(allowed, ours).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
                throw BenchError("Cedar and Airlock decide requests \(differ.prefix(10)) differently")
            }
            cedar = anchor
        }
        defer { cedar?.close() }
        // Warm up both.
        for n in 0..<10_000 { _ = policy.evaluate(base[n % base.count]) }
        _ = try cedar?.time(requestsPerRound)

        var samples: [Double] = []
        samples.reserveCapacity(rounds * requestsPerRound)
        var cedarRounds: [Double] = []
        var sink = 0
        for _ in 0..<rounds {
            if let cedar { cedarRounds.append(try cedar.time(requestsPerRound)) }
            for input in batch {
                let start = Stats.now()
                let decision = policy.evaluate(input)
                samples.append(Stats.since(start))
                sink &+= decision.rules.count
            }
        }
        let p50 = Stats.median(samples) / 1000
        let p99 = Stats.percentile(samples, 0.99) / 1000
        let allowed = base.filter { policy.evaluate($0).effect == .allow }.count
        let version = (try? cedar?.version()) ?? nil
        return [
            Row(
                id: "policy.decision", what: "policy decision, \(policy.ruleIDs.count) rules (p50)", figure: p50,
                unit: "µs", anchor: cedar == nil ? nil : Stats.median(cedarRounds) / 1000,
                anchorName: "Cedar \(version ?? "(cedarpy not installed)"), batch API, per decision",
                comparison: cedar == nil ? .none : .ratio,
                note:
                    "Airlock p99 \(Format.number(p99)) µs; \(rounds) rounds of \(requestsPerRound) requests; \(allowed) of \(base.count) distinct requests allowed by both engines"
                    + (sink == Int.min ? " " : ""))
        ]
    }
}

/// cedar_anchor.py as a coprocess: one command line in, one answer line out.
final class CedarAnchor {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer: [UInt8] = []

    init(python: String, script: URL, policies: URL, requests: URL) throws {
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path, policies.path, requests.path]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    func close() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private func ask(_ line: String) throws -> String {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let answer = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return answer
            }
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw BenchError("cedar_anchor.py ended (is cedarpy installed?)") }
            buffer += chunk
        }
    }

    /// Whether Cedar allows each request of the requests file.
    func decide() throws -> [Bool] {
        let answer = try ask("decide")
        guard case .array(let values) = try JSONParser().parse(answer) else {
            throw BenchError("cedar_anchor.py: \(answer)")
        }
        return values.map { $0 == .bool(true) }
    }

    /// Nanoseconds per decision of one batch of `count` requests.
    func time(_ count: Int) throws -> Double {
        let answer = try ask("time \(count)")
        guard let value = Double(answer) else { throw BenchError("cedar_anchor.py: \(answer)") }
        return value
    }

    /// `Cedar (cedarpy 4.12.2)`.
    func version() throws -> String { "(cedarpy \(try ask("version")))" }
}
