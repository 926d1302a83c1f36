import AirlockCore

extension Policy {
    /// The version marker every policy document carries (`airlock_policy: 1`).
    public static let documentVersion: Int64 = 1

    /// Loads and compiles a policy document (YAML or JSON).
    /// - Parameter yaml: the document text.
    /// - Throws: ``PolicyError`` (`invalid-policy`) listing every problem with its path and line.
    public init(yaml: String) throws(PolicyError) {
        let document = try DocumentReader.parse(yaml, as: .invalidPolicy)
        let (policy, problems) = Self.compile(document)
        guard let policy, problems.isEmpty else { throw PolicyError(.invalidPolicy, problems: problems) }
        self = policy
    }

    /// Compiles a parsed document, collecting every problem rather than stopping at the first.
    static func compile(_ document: YAMLDocument) -> (Policy?, [PolicyDiagnostic]) {
        var reader = DocumentReader(lines: document.lines)
        let allowed: Set = ["airlock_policy", "name", "description", "settings", "rules"]
        guard let top = reader.object(document.value, at: "", allowed: allowed) else {
            return (nil, reader.diagnostics)
        }
        if let (v, p) = top("airlock_policy") {
            if let version = reader.integer(v, at: p), version != documentVersion {
                reader.fail(p, "unsupported policy version \(version) (this Airlock reads version \(documentVersion))")
            }
        } else {
            reader.fail("/airlock_policy", "missing: add 'airlock_policy: \(documentVersion)' at the top")
        }
        var name = ""
        if let (v, p) = top("name") { name = reader.string(v, at: p) ?? "" } else { reader.fail("/name", "missing") }
        if let (v, p) = top("description") { _ = reader.string(v, at: p, nonEmpty: false) }
        var settings = Settings()
        if let (v, p) = top("settings") { settings = readSettings(v, at: p, reader: &reader) }
        let paths = PathNormalizer(workspace: settings.workspace, maxLength: settings.maxPathLength)

        var rules: [Rule] = []
        var seen: [String: String] = [:]
        if let (v, p) = top("rules"), let items = reader.array(v, at: p) {
            for (index, item) in items.enumerated() {
                let rp = JSONPointer.appending(p, index)
                // Checked on the raw id so a duplicate is reported even when its first rule is broken.
                if let id = item["id"]?.stringValue {
                    if let earlier = seen[id] {
                        reader.fail(JSONPointer.appending(rp, "id"), "duplicate rule id '\(id)' (first at \(earlier))")
                        continue
                    }
                    seen[id] = rp
                }
                if let rule = readRule(item, at: rp, index: rules.count, paths: paths, reader: &reader) {
                    rules.append(rule)
                }
            }
        } else if top("rules") == nil {
            reader.fail("/rules", "missing: a policy needs a list of rules (an empty list denies everything)")
        }
        guard reader.diagnostics.isEmpty else { return (nil, reader.diagnostics) }

        var byTool: [String: [Int]] = [:]
        var wildcard: [Int] = []
        for rule in rules {
            if let exact = rule.when.exactTools {
                for tool in exact { byTool[tool, default: []].append(rule.index) }
            }
            if !rule.when.globs.isEmpty || !rule.when.hasToolSelector { wildcard.append(rule.index) }
        }
        // Each exact name's list also holds the wildcard rules that can match it, in document order,
        // so evaluation walks one precomputed list.
        for (tool, indices) in byTool {
            let extra = wildcard.filter { rules[$0].when.matchesTool(tool) }
            byTool[tool] = Array(Set(indices + extra)).sorted()
        }
        let digest = SHA256.hex(document.value.canonicalBytes)
        let policy = Policy(
            name: name, digest: digest, settings: settings, rules: rules, candidatesByTool: byTool,
            wildcardRules: wildcard, paths: paths)
        return (policy, [])
    }

    private static func readSettings(_ value: JSONValue, at pointer: String, reader: inout DocumentReader) -> Settings {
        var settings = Settings()
        let allowed: Set = ["workspace", "max_path_length", "approval_max_age_seconds"]
        guard let f = reader.object(value, at: pointer, allowed: allowed) else { return settings }
        if let (v, p) = f("workspace"), let w = reader.string(v, at: p) {
            if case .path(let normalised) = PathNormalizer.normalizeAbsolute(w, maxLength: 4096), w.hasPrefix("/") {
                settings.workspace = normalised
            } else {
                reader.fail(p, "the workspace must be an absolute path without '..' (e.g. /workspace)")
            }
        }
        if let (v, p) = f("max_path_length"), let n = reader.integer(v, at: p, in: 1...Int64.max) {
            settings.maxPathLength = Int(n)
        }
        if let (v, p) = f("approval_max_age_seconds"), let d = reader.number(v, at: p) {
            settings.approvalMaxAgeSeconds = d
        }
        return settings
    }

    private static func readRule(
        _ value: JSONValue, at pointer: String, index: Int, paths: PathNormalizer, reader: inout DocumentReader
    ) -> Rule? {
        let allowed: Set = ["id", "effect", "description", "when", "unless", "reason", "tags", "approval"]
        guard let f = reader.object(value, at: pointer, allowed: allowed) else { return nil }
        let before = reader.count
        var id = ""
        if let (v, p) = f("id"), let s = reader.string(v, at: p) {
            id = s
            if !isValidID(s) {
                reader.fail(
                    p, "rule id '\(s)' must be lowercase letters, digits, '.', '-' or '_', starting with a letter")
            } else if s.hasPrefix("builtin.") || s.hasPrefix("default.") {
                reader.fail(p, "rule ids starting with 'builtin.' or 'default.' are reserved for Airlock's guards")
            }
        } else if f("id") == nil {
            reader.fail(f.pointer("id"), "missing: every rule needs a unique id")
        }
        var effect: Rule.Effect?
        if let (v, p) = f("effect") {
            effect = reader.enumeration(v, at: p)
        } else {
            reader.fail(f.pointer("effect"), "missing: forbid, require_approval or permit")
        }
        if let (v, p) = f("description") { _ = reader.string(v, at: p, nonEmpty: false) }
        var reason: ReasonTemplate?
        if let (v, p) = f("reason"), let s = reader.string(v, at: p) {
            switch ReasonTemplate.compile(s) {
            case .success(let t): reason = t
            case .failure(let e):
                let known = ReasonTemplate.placeholders.keys.sorted().map { "{\($0)}" }.joined(separator: " ")
                reader.fail(p, "unknown placeholder {\(e.name)} (known: \(known))")
            }
        } else if f("reason") == nil {
            reader.fail(f.pointer("reason"), "missing: a sentence a person can act on when this rule decides")
        }
        var tags: [String] = []
        if let (v, p) = f("tags"), let list = reader.strings(v, at: p) {
            for (n, tag) in list.enumerated() where !ThreatTag.isValid(tag) {
                reader.fail(
                    JSONPointer.appending(p, n),
                    "unknown threat tag '\(tag)' (use maestro:L1-L7, asi:01-10 or nhi:01-10 from docs/threats.md)")
            }
            tags = Array(Set(list)).sorted()
        } else if f("tags") == nil {
            reader.fail(f.pointer("tags"), "missing: the threat tags this rule answers (e.g. [maestro:L3, asi:02])")
        }
        var when = ConditionSet()
        if let (v, p) = f("when") {
            when = readConditions(v, at: p, allowTools: true, paths: paths, reader: &reader)
        }
        var unless: ConditionSet?
        if let (v, p) = f("unless") {
            unless = readConditions(v, at: p, allowTools: false, paths: paths, reader: &reader)
        }
        var separate = false
        if let (v, p) = f("approval"), let a = reader.object(v, at: p, allowed: ["separate_from_principal"]) {
            if effect != nil, effect != .requireApproval {
                reader.fail(p, "only a require_approval rule takes approval settings")
            }
            if let (v, p) = a("separate_from_principal"), let b = reader.bool(v, at: p) { separate = b }
        }
        guard reader.count == before, let effect, let reason else { return nil }
        return Rule(
            id: id, effect: effect, when: when, unless: unless, reason: reason, tags: tags, index: index,
            pointer: pointer, separateFromPrincipal: separate)
    }

    private static func isValidID(_ id: String) -> Bool {
        guard let first = id.utf8.first, (0x61...0x7A).contains(first) else { return false }
        return id.utf8.allSatisfy { b in
            (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) || b == 0x2E || b == 0x2D || b == 0x5F
        }
    }

    static let conditionFields: Set = [
        "tools", "roles", "users", "workflows", "agents", "risk_at_least", "arguments", "budget_exceeded",
        "rate_exceeded", "context_labels_any", "tool_reads_labels_any", "tool_output_labels_any",
        "tool_writes_outside_workspace", "tool_network", "tool_network_any",
    ]

    private static func readConditions(
        _ value: JSONValue, at pointer: String, allowTools: Bool, paths: PathNormalizer, reader: inout DocumentReader
    ) -> ConditionSet {
        var set = ConditionSet()
        let allowed = allowTools ? conditionFields : conditionFields.subtracting(["tools"])
        guard let f = reader.object(value, at: pointer, allowed: allowed) else { return set }
        if let (v, p) = f("tools"), let names = reader.strings(v, at: p) {
            var exact: Set<String> = []
            for name in names {
                if Glob.isGlob(name) { set.globs.append(Glob(name)) } else { exact.insert(name) }
            }
            if !exact.isEmpty { set.exactTools = exact }
        }
        func names(_ key: String) -> Set<String>? {
            guard let (v, p) = f(key), let list = reader.strings(v, at: p) else { return nil }
            return Set(list)
        }
        set.roles = names("roles")
        set.users = names("users")
        set.workflows = names("workflows")
        set.agents = names("agents")
        set.contextLabelsAny = names("context_labels_any")
        set.toolReadsLabelsAny = names("tool_reads_labels_any")
        set.toolOutputLabelsAny = names("tool_output_labels_any")
        if let (v, p) = f("tool_writes_outside_workspace") { set.toolWritesOutsideWorkspace = reader.bool(v, at: p) }
        if let (v, p) = f("tool_network") { set.toolNetwork = reader.bool(v, at: p) }
        set.toolNetworkAny = names("tool_network_any")
        if let (v, p) = f("risk_at_least") { set.riskAtLeast = reader.enumeration(v, at: p) }
        if let (v, p) = f("budget_exceeded") { set.budgetExceeded = readBudget(v, at: p, reader: &reader) }
        if let (v, p) = f("rate_exceeded") { set.rateExceeded = readRate(v, at: p, reader: &reader) }
        if let (v, p) = f("arguments"), let items = reader.array(v, at: p) {
            for (n, item) in items.enumerated() {
                let cp = JSONPointer.appending(p, n)
                if let c = readConstraint(item, at: cp, paths: paths, reader: &reader) { set.arguments.append(c) }
            }
        }
        return set
    }

    private static func readBudget(_ value: JSONValue, at pointer: String, reader: inout DocumentReader)
        -> ConditionSet.Budget?
    {
        let allowed: Set = ["calls_per_tool", "calls_per_run", "elapsed_seconds", "output_bytes"]
        guard let f = reader.object(value, at: pointer, allowed: allowed) else { return nil }
        var budget = ConditionSet.Budget()
        if let (v, p) = f("calls_per_tool") { budget.callsPerTool = reader.integer(v, at: p) }
        if let (v, p) = f("calls_per_run") { budget.callsPerRun = reader.integer(v, at: p) }
        if let (v, p) = f("elapsed_seconds") { budget.elapsedSeconds = reader.number(v, at: p) }
        if let (v, p) = f("output_bytes") { budget.outputBytes = reader.integer(v, at: p) }
        if budget == ConditionSet.Budget() {
            reader.fail(pointer, "name at least one limit: \(allowed.sorted().joined(separator: ", "))")
            return nil
        }
        return budget
    }

    private static func readRate(_ value: JSONValue, at pointer: String, reader: inout DocumentReader)
        -> ConditionSet.Rate?
    {
        guard let f = reader.object(value, at: pointer, allowed: ["max_calls", "window_seconds", "per_tool"]) else {
            return nil
        }
        guard let (mv, mp) = f("max_calls"), let (wv, wp) = f("window_seconds") else {
            reader.fail(pointer, "a rate limit needs 'max_calls' and 'window_seconds'")
            return nil
        }
        let maxCalls = reader.integer(mv, at: mp, in: 1...Int64.max)
        let window = reader.number(wv, at: wp)
        var perTool = true
        if let (v, p) = f("per_tool") { perTool = reader.bool(v, at: p) ?? true }
        guard let maxCalls, let window else { return nil }
        if window <= 0 { reader.fail(wp, "the window must be longer than 0 seconds") }
        return ConditionSet.Rate(maxCalls: maxCalls, windowSeconds: window, perTool: perTool)
    }

    private static func readConstraint(
        _ value: JSONValue, at pointer: String, paths: PathNormalizer, reader: inout DocumentReader
    ) -> ArgumentConstraint? {
        let allowed: Set = [
            "pointer", "present", "type", "equals", "one_of", "regex", "range", "length", "path_within",
        ]
        guard let f = reader.object(value, at: pointer, allowed: allowed) else { return nil }
        let before = reader.count
        guard let (pv, pp) = f("pointer"), let target = reader.string(pv, at: pp, nonEmpty: false) else {
            if f("pointer") == nil {
                reader.fail(f.pointer("pointer"), "missing: the JSON pointer of the argument, e.g. /path")
            }
            return nil
        }
        if !target.isEmpty && !target.hasPrefix("/") {
            reader.fail(pp, "a JSON pointer starts with '/' (e.g. /path), found '\(target)'")
        }
        var c = ArgumentConstraint(pointer: target, source: value)
        if let (v, p) = f("present") { c.present = reader.bool(v, at: p) }
        if let (v, p) = f("type"), let t = reader.string(v, at: p) {
            if ArgumentConstraint.typeNames.contains(t) {
                c.type = t
            } else {
                reader.fail(
                    p, "unknown type '\(t)' (use \(ArgumentConstraint.typeNames.sorted().joined(separator: ", ")))")
            }
        }
        if let (v, _) = f("equals") { c.equals = v }
        if let (v, p) = f("one_of"), let items = reader.array(v, at: p) {
            if items.isEmpty { reader.fail(p, "an empty list can never match") }
            c.oneOf = Set(items)
        }
        if let (v, p) = f("regex"), let pattern = reader.string(v, at: p) {
            switch CompiledRegex.compile(pattern) {
            case .success(let r): c.regex = r
            case .failure(let e): reader.fail(p, "invalid regex '\(pattern)': \(e.reason)")
            }
        }
        if let (v, p) = f("range"), let rf = reader.object(v, at: p, allowed: ["min", "max"]) {
            if let (v, p) = rf("min") { c.minimum = reader.number(v, at: p, in: -.infinity ... .infinity) }
            if let (v, p) = rf("max") { c.maximum = reader.number(v, at: p, in: -.infinity ... .infinity) }
            if let lo = c.minimum, let hi = c.maximum, lo > hi {
                reader.fail(p, "min \(lo) is above max \(hi): never matches")
            }
            if c.minimum == nil && c.maximum == nil { reader.fail(p, "give 'min', 'max' or both") }
        }
        if let (v, p) = f("length"), let lf = reader.object(v, at: p, allowed: ["min", "max"]) {
            if let (v, p) = lf("min") { c.minLength = reader.integer(v, at: p).map(Int.init) }
            if let (v, p) = lf("max") { c.maxLength = reader.integer(v, at: p).map(Int.init) }
            if let lo = c.minLength, let hi = c.maxLength, lo > hi {
                reader.fail(p, "min \(lo) is above max \(hi): never matches")
            }
            if c.minLength == nil && c.maxLength == nil { reader.fail(p, "give 'min', 'max' or both") }
        }
        if let (v, p) = f("path_within"), let roots = reader.strings(v, at: p) {
            var normalised: [String] = []
            for (n, root) in roots.enumerated() {
                guard root.hasPrefix("/"), case .path(let r) = paths.normalize(root) else {
                    reader.fail(
                        JSONPointer.appending(p, n),
                        "path roots must be absolute sandbox paths without '..', found '\(root)'")
                    continue
                }
                normalised.append(r)
            }
            c.pathWithin = normalised
        }
        if f.members.keys.allSatisfy({ $0 == "pointer" }) {
            reader.fail(pointer, "a constraint needs at least one check besides 'pointer'")
        }
        guard reader.count == before else { return nil }
        return c
    }
}
