import AirlockCore

/// Every check `airlock doctor` ran, in order, with the text and JSON an examiner reads.
public struct DoctorReport: Sendable, Hashable {
    /// The checks, in the order they ran.
    public var checks: [DoctorCheck]

    /// Creates a report.
    public init(checks: [DoctorCheck]) { self.checks = checks }

    /// Whether no check failed (warnings and skips do not fail a report).
    public var passed: Bool { !checks.contains { $0.status == .fail } }

    /// How many checks ended with `status`.
    public func count(_ status: DoctorCheck.Status) -> Int { checks.filter { $0.status == status }.count }

    /// The check with `id`, if it ran.
    public func check(_ id: String) -> DoctorCheck? { checks.first { $0.id == id } }

    /// The width the identifier column is padded to.
    static let idColumn = 22

    /// The report for people: one line per check (`PASS  model-endpoint  …`), its evidence and
    /// remedy indented below, and a closing summary.
    public var text: String {
        var lines: [String] = []
        let indent = String(repeating: " ", count: 6)
        for check in checks {
            let id = check.id.padding(toLength: max(Self.idColumn, check.id.count + 1), withPad: " ", startingAt: 0)
            let label = check.status.label.padding(toLength: 4, withPad: " ", startingAt: 0)
            lines.append("\(label)  \(id)\(check.summary)")
            lines += check.evidence.map { indent + $0 }
            if let remedy = check.remedy { lines.append(indent + "remedy: " + remedy) }
        }
        lines.append(summaryLine)
        return lines.joined(separator: "\n") + "\n"
    }

    /// `summary: 9 checks; 7 pass, 1 fail, 1 warn, 0 skip; …`.
    public var summaryLine: String {
        let counts = DoctorCheck.Status.allCases.map { "\(count($0)) \($0.rawValue)" }.joined(separator: ", ")
        let verdict =
            passed
            ? "no check failed"
            : "failing: " + checks.filter { $0.status == .fail }.map(\.id).joined(separator: ", ")
        return "summary: \(checks.count) checks; \(counts); \(verdict)"
    }

    /// The report as JSON (for `airlock doctor --json`).
    public var json: JSONValue {
        var counts: [String: JSONValue] = [:]
        for status in DoctorCheck.Status.allCases { counts[status.rawValue] = .integer(Int64(count(status))) }
        return [
            "passed": .bool(passed), "counts": .object(counts), "checks": .array(checks.map(\.json)),
        ]
    }
}
