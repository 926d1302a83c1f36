import AirlockCore

/// One finding of `airlock doctor`: what was checked, the verdict, what was looked at and found,
/// and what to do about a failure.
public struct DoctorCheck: Sendable, Hashable {
    /// A check's verdict.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// The property holds, and the evidence shows it.
        case pass
        /// Nothing is exposed, but something deserves a look (the evidence says what).
        case warn
        /// The property does not hold, or could not be shown to hold.
        case fail
        /// Nothing to check here (the evidence says why).
        case skip

        /// The word printed at the start of the check's line.
        public var label: String { rawValue.uppercased() }
    }

    /// A stable identifier (`model-endpoint`, `key-permissions`, …).
    public var id: String
    /// What the check proves, in a few words.
    public var title: String
    /// The verdict.
    public var status: Status
    /// The finding in one line.
    public var summary: String
    /// What was looked at and found: paths, modes, owners, digests, interfaces, variable names
    /// (never a variable's value, never a secret).
    public var evidence: [String]
    /// What to do, for a failure or a warning.
    public var remedy: String?

    /// Creates a check result.
    /// - Parameters:
    ///   - id: the stable identifier.
    ///   - title: what the check proves.
    ///   - status: the verdict.
    ///   - summary: the finding in one line.
    ///   - evidence: what was looked at and found.
    ///   - remedy: what to do about a failure or warning.
    public init(
        id: String, title: String, status: Status, summary: String, evidence: [String] = [], remedy: String? = nil
    ) {
        self.id = id
        self.title = title
        self.status = status
        self.summary = summary
        self.evidence = evidence
        self.remedy = remedy
    }

    /// The threat tags (docs/threats.md) the check answers.
    public var threats: [String] { Doctor.threats[id] ?? [] }

    /// The check as JSON (for `airlock doctor --json`).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "title": .string(title), "status": .string(status.rawValue),
            "summary": .string(summary), "evidence": .array(evidence.map { .string($0) }),
            "threats": .array(threats.map { .string($0) }),
        ]
        object["remedy"] = remedy.map { .string($0) } ?? .null
        return .object(object)
    }
}
