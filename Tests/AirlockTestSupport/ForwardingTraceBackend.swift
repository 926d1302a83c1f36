import Synchronization
import Trace

/// A trace backend that forwards every read and write to another (the real SQLite or PostgreSQL
/// one) and notes, per committed transaction, the types of the events it inserted: what a test
/// counts a recorder's commits by. It has no borrowing read of its own, so
/// ``TraceBackend/scanEvents(runID:_:)`` is the protocol's default over `events(runID:)`: what a
/// backend without one (PostgreSQL's) gets.
public final class ForwardingTraceBackend: TraceBackend, @unchecked Sendable {
    /// Where everything goes.
    public let inner: any TraceBackend
    private let noted = Mutex<[[String]]>([])

    /// Wraps `inner`.
    public init(_ inner: any TraceBackend) { self.inner = inner }

    /// The event types of each committed transaction, in order.
    public var transactions: [[String]] { noted.withLock { $0 } }

    public var location: String { inner.location }
    public func runs() throws(TraceError) -> [TraceRunSummary] { try inner.runs() }
    public func runRow(_ runID: String) throws(TraceError) -> TraceRunSummary? { try inner.runRow(runID) }
    public func events(runID: String) throws(TraceError) -> [TraceStoredEvent] { try inner.events(runID: runID) }
    public func firstEvents() throws(TraceError) -> [TraceStoredEvent] { try inner.firstEvents() }
    public func checkpoints(runID: String) throws(TraceError) -> [TraceCheckpoint] {
        try inner.checkpoints(runID: runID)
    }
    public func blob(sha256: String) throws(TraceError) -> [UInt8]? { try inner.blob(sha256: sha256) }
    public func ledgerEntries() throws(TraceError) -> [TraceLedger.Entry] { try inner.ledgerEntries() }
    public func heads() throws(TraceError) -> [String: TraceHead] { try inner.heads() }

    public func write(stage: String, _ body: (any TraceWriting) throws(TraceError) -> Void) throws(TraceError) {
        var types: [String] = []
        try inner.write(stage: stage) { tx throws(TraceError) in
            let noting = Noting(inner: tx)
            try body(noting)
            types = noting.types
        }
        noted.withLock { $0.append(types) }
    }

    /// Passes every write of one transaction on, noting the event types.
    private final class Noting: TraceWriting {
        let inner: any TraceWriting
        var types: [String] = []
        init(inner: any TraceWriting) { self.inner = inner }
        func ledgerHead() throws(TraceError) -> TraceHead? { try inner.ledgerHead() }
        func runIDs() throws(TraceError) -> [String] { try inner.runIDs() }
        func insert(ledger entry: TraceLedger.Entry) throws(TraceError) { try inner.insert(ledger: entry) }
        func insert(run summary: TraceRunSummary) throws(TraceError) { try inner.insert(run: summary) }
        func insert(blob sha256: String, bytes: [UInt8]) throws(TraceError) {
            try inner.insert(blob: sha256, bytes: bytes)
        }
        func insert(event: TraceStoredEvent) throws(TraceError) {
            try inner.insert(event: event)
            types.append(event.type)
        }
        func insert(checkpoint: TraceCheckpoint) throws(TraceError) { try inner.insert(checkpoint: checkpoint) }
        func markFinished(runID: String, status: String) throws(TraceError) {
            try inner.markFinished(runID: runID, status: status)
        }
    }
}
