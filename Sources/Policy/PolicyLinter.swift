import AirlockCore

/// `airlock policy lint`: everything wrong with a policy document, not just the first problem.
///
/// Errors are what stops the policy from loading (malformed or unknown fields, bad values,
/// unknown threat tags). Warnings are rules that load but cannot do what their author meant:
/// rules that can never match, rules shadowed by a forbid that matches every call they match,
/// and forbid or approval rules whose regex a newline defeats (`.` stops at one). Notes are permits that overlap a forbid naming the same tools (often intended: "permit
/// queries, forbid queries that are not SELECT"), listed so a reviewer sees where forbid wins.
public enum PolicyLinter {
    /// Lints a policy document.
    /// - Parameter text: the YAML or JSON text.
    /// - Returns: the findings, errors first, then in document order.
    public static func lint(_ text: String) -> [PolicyDiagnostic] {
        let document: YAMLDocument
        do {
            document = try DocumentReader.parse(text, as: .invalidPolicy)
        } catch {
            return error.problems
        }
        let (compiled, problems) = Policy.compile(document)
        guard let policy = compiled, problems.isEmpty else { return problems }
        var findings: [PolicyDiagnostic] = []
        func report(_ severity: PolicyDiagnostic.Severity, _ rule: Rule, _ message: String) {
            findings.append(
                PolicyDiagnostic(severity, path: rule.pointer, line: document.line(for: rule.pointer), message: message)
            )
        }
        for rule in policy.rules {
            if let why = neverMatches(rule) { report(.warning, rule, "rule '\(rule.id)' can never match: \(why)") }
            // A denying rule's `when` regex must match the whole value: with `.` stopping at a
            // newline, one newline in the value makes it miss, and the call goes by. (In `unless`
            // the miss makes the rule apply, which is safe.)
            guard rule.effect != .permit else { continue }
            for constraint in rule.when.arguments {
                guard let regex = constraint.regex, newlineDefeats(regex.pattern) else { continue }
                report(
                    .warning, rule,
                    "rule '\(rule.id)': the regex '\(regex.pattern)' at \(constraint.pointer) uses '.', which stops at a newline, so a value with one newline escapes the rule; start it with (?s) or use [\\s\\S]"
                )
            }
        }
        let forbids = policy.rules.filter { $0.effect == .forbid && $0.unless == nil }
        for rule in policy.rules {
            let shadowing = forbids.first { f in
                f.id != rule.id && (rule.effect != .forbid || f.index < rule.index) && covers(f.when, rule.when)
            }
            if let shadowing {
                let what = rule.effect == .forbid ? "is redundant" : "never changes a decision"
                report(
                    .warning, rule, "rule '\(rule.id)' \(what): forbid '\(shadowing.id)' matches every call it matches")
                continue
            }
            guard rule.effect == .permit else { continue }
            // Forbids that name no tool are guards over every call by design; only a forbid that names
            // the permit's tools is worth pointing at.
            for f in policy.rules where f.effect == .forbid && f.when.hasToolSelector && overlaps(rule.when, f.when) {
                report(.note, rule, "permit '\(rule.id)' overlaps forbid '\(f.id)': calls matching both are denied")
            }
        }
        return findings
    }

    /// Whether `pattern` has a `.` outside a character class and is not dot-all as a whole (a
    /// leading `(?s)` or `(?is)`-style flag group): a newline in the value then stops the match.
    static func newlineDefeats(_ pattern: String) -> Bool {
        let scalars = Array(pattern.unicodeScalars)
        if scalars.starts(with: ["(", "?"]), let close = scalars.firstIndex(of: ")") {
            let flags = scalars[2..<close]
            if flags.allSatisfy({ ("a"..."z").contains($0) || $0 == "-" }),
                flags.prefix(while: { $0 != "-" }).contains("s")
            {
                return false
            }
        }
        var i = 0
        var inClass = false
        while i < scalars.count {
            switch scalars[i] {
            case "\\": i += 1
            case "[": inClass = true
            case "]": inClass = false
            case "." where !inClass: return true
            default: break
            }
            i += 1
        }
        return false
    }

    /// Why `rule` can never match, or `nil` when it can.
    static func neverMatches(_ rule: Rule) -> String? {
        if let unless = rule.unless, unless == rule.when || covers(unless, rule.when) {
            return "its 'unless' holds whenever its 'when' does"
        }
        var byPointer: [String: [ArgumentConstraint]] = [:]
        for c in rule.when.arguments { byPointer[c.pointer, default: []].append(c) }
        for (pointer, constraints) in byPointer.sorted(by: { $0.key < $1.key }) {
            let equals = constraints.compactMap(\.equals)
            if Set(equals).count > 1 { return "\(pointer) must equal two different values" }
            for c in constraints {
                if c.present == false && (c.type != nil || c.equals != nil || c.oneOf != nil || c.regex != nil) {
                    return "\(pointer) must be absent and yet have a value"
                }
                if let value = equals.first {
                    if let oneOf = c.oneOf, !oneOf.contains(value) {
                        return "\(pointer) equals a value not in its one_of"
                    }
                    if let regex = c.regex, case .string(let s) = value, !regex.matches(s) {
                        return "\(pointer) equals \(value.canonicalString), which its regex does not match"
                    }
                }
                if let type = c.type {
                    let needsString = c.regex != nil || c.pathWithin != nil
                    let needsNumber = c.minimum != nil || c.maximum != nil
                    if needsString && type != "string" { return "\(pointer) has type \(type) but a string check" }
                    if needsNumber && type != "integer" && type != "number" {
                        return "\(pointer) has type \(type) but a numeric range"
                    }
                }
            }
        }
        return nil
    }

    /// Whether every call matching `inner` also matches `outer`.
    static func covers(_ outer: ConditionSet, _ inner: ConditionSet) -> Bool {
        if outer.hasToolSelector {
            guard inner.hasToolSelector else { return false }
            for name in inner.exactTools ?? [] where !outer.matchesTool(name) { return false }
            let outerPatterns = Set(outer.globs.map(\.pattern))
            for glob in inner.globs where !outerPatterns.contains(glob.pattern) && !outerPatterns.contains("*") {
                return false
            }
        }
        func subset(_ o: Set<String>?, _ i: Set<String>?) -> Bool {
            guard let o else { return true }
            guard let i else { return false }
            return i.isSubset(of: o)
        }
        guard subset(outer.roles, inner.roles), subset(outer.users, inner.users),
            subset(outer.workflows, inner.workflows), subset(outer.agents, inner.agents),
            subset(outer.contextLabelsAny, inner.contextLabelsAny),
            subset(outer.toolReadsLabelsAny, inner.toolReadsLabelsAny),
            subset(outer.toolOutputLabelsAny, inner.toolOutputLabelsAny)
        else { return false }
        if let r = outer.riskAtLeast {
            guard let ir = inner.riskAtLeast, ir >= r else { return false }
        }
        if let w = outer.toolWritesOutsideWorkspace, inner.toolWritesOutsideWorkspace != w { return false }
        if let b = outer.budgetExceeded, inner.budgetExceeded != b { return false }
        if let r = outer.rateExceeded, inner.rateExceeded != r { return false }
        let innerSources = Set(inner.arguments.map(\.source))
        return outer.arguments.allSatisfy { innerSources.contains($0.source) }
    }

    /// Whether some call could match both (conservative: `true` unless provably disjoint).
    static func overlaps(_ a: ConditionSet, _ b: ConditionSet) -> Bool {
        if a.hasToolSelector && b.hasToolSelector && a.globs.isEmpty && b.globs.isEmpty {
            guard let x = a.exactTools, let y = b.exactTools, !x.isDisjoint(with: y) else { return false }
        } else if a.hasToolSelector && b.hasToolSelector {
            let aNames = a.exactTools ?? []
            let bNames = b.exactTools ?? []
            let anyGlobPair = !a.globs.isEmpty && !b.globs.isEmpty
            let crossMatch =
                aNames.contains(where: b.matchesTool) || bNames.contains(where: a.matchesTool)
            guard anyGlobPair || crossMatch else { return false }
        }
        func disjoint(_ x: Set<String>?, _ y: Set<String>?) -> Bool {
            guard let x, let y else { return false }
            return x.isDisjoint(with: y)
        }
        if disjoint(a.roles, b.roles) || disjoint(a.users, b.users) || disjoint(a.workflows, b.workflows)
            || disjoint(a.agents, b.agents)
        {
            return false
        }
        if let x = a.toolWritesOutsideWorkspace, let y = b.toolWritesOutsideWorkspace, x != y { return false }
        return true
    }
}
