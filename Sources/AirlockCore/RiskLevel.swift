/// How much harm a tool can do, as declared in its manifest; ordered low < medium < high < critical.
public enum RiskLevel: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Reads bounded, non-sensitive data.
    case low
    /// Reads sensitive data or writes inside the workspace.
    case medium
    /// Writes or exports data, or touches shared state.
    case high
    /// Irreversible or boundary-crossing effects.
    case critical

    private var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        case .critical: 3
        }
    }

    public static func < (lhs: RiskLevel, rhs: RiskLevel) -> Bool { lhs.rank < rhs.rank }
}
