import Replay
import Trace

/// Which runs a list shows: by status, workflow, principal and start date; review chains (the
/// verdicts' own records) never. `airlock trace list` and the console's runs page filter with it.
public struct RunsQuery: Sendable, Hashable {
    /// `incomplete`, `finished:STATUS` or just `STATUS` (`succeeded`, `denied`, …).
    public var status: String?
    /// The workflow's name.
    public var workflow: String?
    /// Who ran it.
    public var principal: String?
    /// Started at or after this time (ns since 1970).
    public var since: Int64?
    /// Started before this time (ns since 1970).
    public var before: Int64?

    /// Creates a query; every criterion given must hold.
    public init(
        status: String? = nil, workflow: String? = nil, principal: String? = nil, since: Int64? = nil,
        before: Int64? = nil
    ) {
        self.status = status
        self.workflow = workflow
        self.principal = principal
        self.since = since
        self.before = before
    }

    /// Whether `run` is shown.
    public func matches(_ run: TraceRunSummary) -> Bool {
        run.workflow != ReviewVerdict.workflow
            && status.map { run.status == $0 || run.status == "finished:" + $0 } ?? true
            && workflow.map { run.workflow == $0 } ?? true
            && principal.map { run.principal == $0 } ?? true
            && since.map { run.startedAt >= $0 } ?? true
            && before.map { run.startedAt < $0 } ?? true
    }

    /// Midnight UTC starting `day` (`YYYY-MM-DD`), in ns since 1970; `nil` when it is not such a date.
    public static func midnight(_ day: String) -> Int64? {
        let parts = day.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]), (1...12).contains(m),
            (1...31).contains(d)
        else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm), the inverse of HTML.time.
        let year = m <= 2 ? y - 1 : y
        let era = (year >= 0 ? year : year - 399) / 400
        let yoe = year - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return (era * 146_097 + doe - 719_468) * 86_400 * 1_000_000_000
    }
}
