/// One run as `airlock trace list` shows it.
public struct TraceRunSummary: Sendable, Hashable {
    /// The run id.
    public var runID: String
    /// The workflow named in `run.started`.
    public var workflow: String
    /// Who ran it.
    public var principal: String
    /// When `run.started` was recorded (ns since the epoch).
    public var startedAt: Int64
    /// The status from `run.finished`, or `nil` when the run never finished.
    public var finishedStatus: String?
    /// How many events the run has.
    public var events: Int64
    /// How many model steps it took (one `model.request` each), as `airlock run` counts them.
    public var steps: Int64
    /// How many tool calls the model proposed (`tool.proposed`).
    public var calls: Int64

    /// Creates a summary.
    public init(
        runID: String, workflow: String, principal: String, startedAt: Int64, finishedStatus: String?,
        events: Int64, steps: Int64, calls: Int64 = 0
    ) {
        self.runID = runID
        self.workflow = workflow
        self.principal = principal
        self.startedAt = startedAt
        self.finishedStatus = finishedStatus
        self.events = events
        self.steps = steps
        self.calls = calls
    }

    /// Sets ``events``, ``steps`` and ``calls`` from a run's events in hand.
    mutating func count(_ events: [TraceStoredEvent]) {
        self.events = Int64(events.count)
        steps = Int64(events.count(where: { $0.type == TraceEventType.modelRequest.rawValue }))
        calls = Int64(events.count(where: { $0.type == TraceEventType.toolProposed.rawValue }))
    }

    /// `finished:<status>`, or `incomplete` for a run without `run.finished` (its process died, or
    /// it is still running).
    public var status: String {
        finishedStatus.map { "finished:\($0)" } ?? "incomplete"
    }
}
