import AirlockCore

/// A policy's test file: cases with an input and the expected effect and rule ids, run like
/// `opa test` by `airlock policy test`.
///
/// ```yaml
/// airlock_policy_test: 1
/// policy: baseline.yaml          # relative to the test file
/// principal: {user: ana, role: analyst, workflow: log-triage, agent: triage-agent}   # default
/// tools:                         # default `facts` for inputs naming these tools
///   file_read: {name: file_read, version: 1.0.0, risk: low, pinned_digest: ab…, current_digest: ab…}
/// cases:
///   - name: unknown tools are denied
///     input: {tool: nope, arguments: {}}
///     expect: {effect: deny, rules: [builtin.unknown-tool]}
/// ```
public struct PolicyTestSuite: Sendable {
    /// One test case.
    public struct Case: Sendable {
        /// The case's name, as reported.
        public var name: String
        /// The decision input.
        public var input: PolicyInput
        /// The expected effect.
        public var effect: Decision.Effect
        /// The expected rule ids (compared as a set), or `nil` to check the effect only.
        public var rules: [String]?
        /// The source line of the case.
        public var line: Int?
    }

    /// The outcome of one case.
    public struct Result: Sendable {
        /// The case.
        public var testCase: Case
        /// The decision the policy made.
        public var decision: Decision
        /// Whether it met the expectation.
        public var passed: Bool

        /// One report line (plus a detail line on failure).
        public var text: String {
            guard !passed else { return "PASS  \(testCase.name)" }
            let expected = "\(testCase.effect.rawValue) [\((testCase.rules ?? ["…"]).joined(separator: ", "))]"
            let got = "\(decision.effect.rawValue) [\(decision.rules.joined(separator: ", "))]"
            let line = testCase.line.map { " (line \($0))" } ?? ""
            return "FAIL  \(testCase.name)\(line)\n      expected \(expected), got \(got)"
        }
    }

    /// The version marker of test files (`airlock_policy_test: 1`).
    public static let documentVersion: Int64 = 1

    /// The policy file the cases are written for, relative to the test file.
    public var policyPath: String
    /// The cases in file order.
    public var cases: [Case]

    /// Reads a test file.
    /// - Parameter yaml: the file's text.
    /// - Throws: ``PolicyError`` (`invalid-test-file`) naming every bad field's path and line.
    public init(yaml: String) throws(PolicyError) {
        let document = try DocumentReader.parse(yaml, as: .invalidTestFile)
        var reader = DocumentReader(lines: document.lines)
        var policyPath = ""
        var cases: [Case] = []
        if let top = reader.object(
            document.value, at: "", allowed: ["airlock_policy_test", "policy", "principal", "tools", "cases"])
        {
            var defaults = Defaults()
            if let (v, p) = top("principal") {
                _ = reader.object(v, at: p, allowed: ["user", "role", "workflow", "agent"])
                defaults.principal = v
            }
            if let (v, p) = top("tools"), let tf = reader.object(v, at: p, allowed: nil) { defaults.tools = tf.members }
            if let (v, p) = top("airlock_policy_test") {
                if let n = reader.integer(v, at: p), n != Self.documentVersion {
                    reader.fail(p, "unsupported test file version \(n) (this Airlock reads \(Self.documentVersion))")
                }
            } else {
                reader.fail("/airlock_policy_test", "missing: add 'airlock_policy_test: 1' at the top")
            }
            if let (v, p) = top("policy") {
                policyPath = reader.string(v, at: p) ?? ""
            } else {
                reader.fail("/policy", "missing: the policy file these cases test, relative to this file")
            }
            if let (v, p) = top("cases"), let items = reader.array(v, at: p) {
                var names: Set<String> = []
                for (n, item) in items.enumerated() {
                    let cp = JSONPointer.appending(p, n)
                    guard let c = Self.readCase(item, at: cp, defaults: defaults, reader: &reader) else { continue }
                    if !names.insert(c.name).inserted {
                        reader.fail(JSONPointer.appending(cp, "name"), "duplicate case name '\(c.name)'")
                    }
                    cases.append(c)
                }
            } else if top("cases") == nil {
                reader.fail("/cases", "missing: a list of cases")
            }
        }
        guard reader.diagnostics.isEmpty else { throw PolicyError(.invalidTestFile, problems: reader.diagnostics) }
        self.policyPath = policyPath
        self.cases = cases
    }

    /// File-level values filled into every case input that lacks them.
    private struct Defaults {
        var principal: JSONValue?
        var tools: [String: JSONValue] = [:]

        func apply(to input: JSONValue) -> JSONValue {
            guard case .object(var members) = input else { return input }
            if members["principal"] == nil, let principal { members["principal"] = principal }
            if members["facts"] == nil, let name = members["tool"]?.stringValue, let facts = tools[name] {
                members["facts"] = facts
            }
            return .object(members)
        }
    }

    private static func readCase(
        _ value: JSONValue, at pointer: String, defaults: Defaults, reader: inout DocumentReader
    ) -> Case? {
        guard let f = reader.object(value, at: pointer, allowed: ["name", "input", "expect"]) else { return nil }
        let before = reader.count
        let name = f("name").flatMap { reader.string($0.value, at: $0.pointer) }
        if f("name") == nil { reader.fail(f.pointer("name"), "missing: a name for the case") }
        var input: PolicyInput?
        if let (v, p) = f("input") {
            input = PolicyInput.read(defaults.apply(to: v), at: p, reader: &reader)
        } else {
            reader.fail(f.pointer("input"), "missing: the decision input")
        }
        var effect: Decision.Effect?
        var rules: [String]?
        if let (v, p) = f("expect"), let ef = reader.object(v, at: p, allowed: ["effect", "rules"]) {
            if let (v, p) = ef("effect") {
                effect = reader.enumeration(v, at: p)
            } else {
                reader.fail(ef.pointer("effect"), "missing: allow, ask or deny")
            }
            if let (v, p) = ef("rules") { rules = reader.strings(v, at: p, nonEmpty: false) }
        } else if f("expect") == nil {
            reader.fail(f.pointer("expect"), "missing: {effect, rules}")
        }
        guard reader.count == before, let name, let input, let effect else { return nil }
        return Case(name: name, input: input, effect: effect, rules: rules, line: reader.line(for: pointer))
    }

    /// Runs every case against `policy`.
    /// - Returns: one result per case, in file order.
    public func run(_ policy: Policy) -> [Result] {
        cases.map { c in
            let decision = policy.evaluate(c.input)
            let rulesMatch = c.rules.map { Set($0) == Set(decision.rules) } ?? true
            return Result(testCase: c, decision: decision, passed: decision.effect == c.effect && rulesMatch)
        }
    }
}
