import AirlockCore

/// The evaluation-latency benchmark behind `airlock bench policy`: a generated policy of
/// `ruleCount` rules over realistic inputs (argument constraints, path rules, budgets, labels,
/// approvals), timing each ``Policy/evaluate(_:)`` call.
///
/// Reads the clock, so it lives beside the engine rather than in it; the engine stays pure.
public struct PolicyBenchmark: Sendable {
    /// The figures one run produced, in nanoseconds.
    public struct Figures: Sendable {
        /// Rules in the generated policy.
        public var rules: Int
        /// Evaluations timed.
        public var evaluations: Int
        /// Median evaluation latency.
        public var p50: Double
        /// 99th percentile evaluation latency.
        public var p99: Double
        /// Mean evaluation latency.
        public var mean: Double
        /// Time to load and compile the policy once.
        public var load: Double
        /// Effects seen over the inputs, for a sanity check that the mix is realistic.
        public var effects: [Decision.Effect: Int]
        /// Mean time of one whole-string match with NSRegularExpression (what the engine uses).
        public var nsRegexMatch: Double
        /// Mean time of the same match with Swift `Regex`, for comparison.
        public var swiftRegexMatch: Double
    }

    /// Rules in the generated policy. Default 200.
    public var ruleCount: Int
    /// Timed evaluations. Default 200 000.
    public var evaluations: Int

    /// Creates a benchmark.
    /// - Parameters:
    ///   - ruleCount: rules in the generated policy (default 200, rounded to whole tools of 10 rules).
    ///   - evaluations: timed evaluations (default 200 000).
    public init(ruleCount: Int = 200, evaluations: Int = 200_000) {
        self.ruleCount = ruleCount
        self.evaluations = evaluations
    }

    /// The generated policy document: 10 rules per tool, plus nothing else.
    public func policyText() -> String {
        var lines = [
            "airlock_policy: 1", "name: bench-\(ruleCount)", "settings: {workspace: /workspace}", "rules:",
        ]
        for t in 0..<max(1, ruleCount / 10) {
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

    /// Realistic inputs cycling over tools, roles, paths, labels and budgets.
    public func inputs(count: Int = 64) -> [PolicyInput] {
        let tools = max(1, ruleCount / 10)
        let digest = String(repeating: "ab", count: 32)
        return (0..<count).map { n in
            let tool = "tool_\(n * 7 % tools)"
            let path = ["/workspace/report.csv", "notes/today.md", "/data/logs/app.log", "/etc/passwd"][n % 4]
            let facts = ToolFacts(
                name: tool, version: "1.0.0", risk: [.low, .medium, .high][n % 3],
                readsLabels: n % 5 == 0 ? ["pii"] : [],
                outputLabels: ["internal"], writesOutsideWorkspace: n % 7 == 0, pinnedDigest: digest,
                currentDigest: digest)
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
                    user: "u\(n % 3)", role: n % 4 == 0 ? "guest" : "analyst",
                    workflow: "triage", agent: "agent-1"),
                context: context)
        }
    }

    /// Runs the benchmark.
    /// - Throws: ``PolicyError`` if the generated policy does not load (a bug in the generator).
    public func run() throws(PolicyError) -> Figures {
        let clock = ContinuousClock()
        let text = policyText()
        let loadStart = clock.now
        let policy = try Policy(yaml: text)
        let load = Self.nanoseconds(clock.now - loadStart)
        let inputs = inputs()
        var effects: [Decision.Effect: Int] = [:]
        for input in inputs { effects[policy.evaluate(input).effect, default: 0] += 1 }
        for n in 0..<min(evaluations, 10_000) { _ = policy.evaluate(inputs[n % inputs.count]) }
        var samples: [Double] = []
        samples.reserveCapacity(evaluations)
        var sink = 0
        for n in 0..<evaluations {
            let start = clock.now
            let decision = policy.evaluate(inputs[n % inputs.count])
            samples.append(Self.nanoseconds(clock.now - start))
            sink &+= decision.rules.count
        }
        samples.sort()
        let (ns, swift) = regexComparison()
        return Figures(
            rules: policy.rules.count, evaluations: evaluations + (sink == -1 ? 1 : 0),
            p50: samples[samples.count / 2], p99: samples[min(samples.count - 1, samples.count * 99 / 100)],
            mean: samples.reduce(0, +) / Double(samples.count), load: load, effects: effects,
            nsRegexMatch: ns, swiftRegexMatch: swift)
    }

    private func regexComparison(iterations: Int = 20_000) -> (Double, Double) {
        let pattern = "[A-Za-z0-9_ ,*=<>]{1,200}"
        let subject = "SELECT a, b FROM t"
        let clock = ContinuousClock()
        guard case .success(let ns) = CompiledRegex.compile(pattern),
            let swift = try? Regex("\\A(?:" + pattern + ")\\z")
        else { return (0, 0) }
        var hits = 0
        var start = clock.now
        for _ in 0..<iterations where ns.matches(subject) { hits += 1 }
        let nsTime = Self.nanoseconds(clock.now - start) / Double(iterations)
        start = clock.now
        for _ in 0..<iterations where (try? swift.wholeMatch(in: subject)) != nil { hits += 1 }
        let swiftTime = Self.nanoseconds(clock.now - start) / Double(iterations)
        return hits >= 0 ? (nsTime, swiftTime) : (0, 0)
    }

    private static func nanoseconds(_ d: Duration) -> Double {
        let (seconds, attoseconds) = d.components
        return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    }
}
