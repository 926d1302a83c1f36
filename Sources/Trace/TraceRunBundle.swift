/// Everything one run consists of: what export writes, import reads and verify checks.
public struct TraceRunBundle: Sendable, Hashable {
    /// The run's metadata (from the `runs` table or an export's header line).
    public var summary: TraceRunSummary
    /// The events in the order they were stored or listed.
    public var events: [TraceStoredEvent]
    /// The signed checkpoints.
    public var checkpoints: [TraceCheckpoint]
    /// Referenced blobs by SHA-256 hex.
    public var blobs: [String: [UInt8]]

    /// Creates a bundle.
    public init(
        summary: TraceRunSummary, events: [TraceStoredEvent], checkpoints: [TraceCheckpoint],
        blobs: [String: [UInt8]]
    ) {
        self.summary = summary
        self.events = events
        self.checkpoints = checkpoints
        self.blobs = blobs
    }
}
