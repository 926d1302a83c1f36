/// Where a ``TraceStore`` keeps its rows: one SQLite file (``TraceStore/init(path:configuration:)``,
/// the embedded default) or a PostgreSQL database shared by many hosts (module `TracePostgres`).
///
/// A backend only stores and reads rows. The chain hashes, the canonical bodies, the signed
/// checkpoints, the ledger's entries and every verification are made once, above it (``RunRecorder``,
/// ``TraceLedger``, ``TraceVerifier``), so both backends hold byte-identical runs.
public protocol TraceBackend: AnyObject, Sendable {
    /// Where the trace lives, for messages: a file path, or a URL without its password.
    var location: String { get }

    /// Every run with its counts (events, `model.request`s, `tool.proposed`s), oldest first
    /// (by start time, then id).
    func runs() throws(TraceError) -> [TraceRunSummary]
    /// One run's index row, with zero counts, or `nil`.
    func runRow(_ runID: String) throws(TraceError) -> TraceRunSummary?
    /// A run's events in sequence order.
    func events(runID: String) throws(TraceError) -> [TraceStoredEvent]
    /// Calls `row` for each of a run's events in sequence order, with the stored bytes borrowed
    /// from the backend rather than copied into a ``TraceStoredEvent``: what ``TraceVerifier``
    /// streams through the chain hash. A backend without a borrowing read gets the default, over
    /// ``events(runID:)``.
    /// - Parameters:
    ///   - runID: the run.
    ///   - row: reads one event; its buffers are valid only until it returns.
    func scanEvents(runID: String, _ row: (TraceEventRowView) -> Void) throws(TraceError)
    /// Every run's event 1, oldest run first.
    func firstEvents() throws(TraceError) -> [TraceStoredEvent]
    /// A run's checkpoints in sequence order.
    func checkpoints(runID: String) throws(TraceError) -> [TraceCheckpoint]
    /// A blob's bytes, or `nil`.
    func blob(sha256: String) throws(TraceError) -> [UInt8]?
    /// The run ledger's entries in order (empty when there is none).
    func ledgerEntries() throws(TraceError) -> [TraceLedger.Entry]
    /// Every run's last event: its sequence number and hash.
    func heads() throws(TraceError) -> [String: TraceHead]

    /// Runs `body` in one transaction: all of its writes are committed (durably) together, or none.
    /// - Parameters:
    ///   - stage: what is being written, for the error message.
    ///   - body: the writes.
    func write(stage: String, _ body: (any TraceWriting) throws(TraceError) -> Void) throws(TraceError)
}

/// A run's last event.
public struct TraceHead: Sendable, Hashable {
    /// Its sequence number.
    public var seq: Int64
    /// Its chain hash.
    public var hash: [UInt8]

    /// Creates a head.
    public init(seq: Int64, hash: [UInt8]) {
        self.seq = seq
        self.hash = hash
    }
}

/// The writes of one backend transaction (``TraceBackend/write(stage:_:)``).
public protocol TraceWriting {
    /// The ledger's newest entry. A backend shared by several writers serializes ledger appends
    /// from this call to the end of the transaction.
    func ledgerHead() throws(TraceError) -> TraceHead?
    /// Every run id stored, oldest first: what the ledger's genesis entry adopts.
    func runIDs() throws(TraceError) -> [String]
    /// Appends a ledger entry.
    func insert(ledger entry: TraceLedger.Entry) throws(TraceError)
    /// Adds a run's index row.
    /// - Throws: ``TraceError`` `run-exists` when the run is already stored.
    func insert(run summary: TraceRunSummary) throws(TraceError)
    /// Stores a blob unless one with that digest is stored.
    func insert(blob sha256: String, bytes: [UInt8]) throws(TraceError)
    /// Appends an event; an event with the same run and sequence number is refused.
    func insert(event: TraceStoredEvent) throws(TraceError)
    /// Stores a signed checkpoint.
    func insert(checkpoint: TraceCheckpoint) throws(TraceError)
    /// Records a run's final status.
    func markFinished(runID: String, status: String) throws(TraceError)
}

/// One stored event row, borrowed for the length of a ``TraceBackend/scanEvents(runID:_:)``
/// callback: the columns of ``TraceStoredEvent`` with its byte columns as the backend holds them.
///
/// Its buffers are the backend's own and are valid only inside the callback; copy what must
/// outlive it (``stored(runID:)``).
public struct TraceEventRowView {
    /// The 1-based position in the run.
    public var seq: Int64
    /// Nanoseconds since the Unix epoch (the `time` column).
    public var time: Int64
    /// The `type` column's UTF-8 bytes.
    public var type: UnsafeRawBufferPointer
    /// The canonical bytes that were hashed.
    public var body: UnsafeRawBufferPointer
    /// The stored previous hash.
    public var prevHash: UnsafeRawBufferPointer
    /// The stored hash.
    public var hash: UnsafeRawBufferPointer

    /// Creates a view over borrowed columns.
    public init(
        seq: Int64, time: Int64, type: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer,
        prevHash: UnsafeRawBufferPointer, hash: UnsafeRawBufferPointer
    ) {
        self.seq = seq
        self.time = time
        self.type = type
        self.body = body
        self.prevHash = prevHash
        self.hash = hash
    }

    /// The row copied into a value that may outlive the callback.
    /// - Parameter runID: the run it was read from.
    public func stored(runID: String) -> TraceStoredEvent {
        TraceStoredEvent(
            runID: runID, seq: seq, type: String(decoding: type, as: UTF8.self), time: time, body: Array(body),
            prevHash: Array(prevHash), hash: Array(hash))
    }
}

extension TraceBackend {
    /// The default borrowing read: each event of ``events(runID:)``, viewed in place.
    /// - Parameters:
    ///   - runID: the run.
    ///   - row: reads one event.
    public func scanEvents(runID: String, _ row: (TraceEventRowView) -> Void) throws(TraceError) {
        for event in try events(runID: runID) {
            event.withRowView(row)
        }
    }
}

extension TraceStoredEvent {
    /// Calls `body` with this event viewed as a borrowed row.
    func withRowView<T>(_ body: (TraceEventRowView) -> T) -> T {
        var type = type
        return type.withUTF8 { typeBytes in
            self.body.withUnsafeBytes { bodyBytes in
                prevHash.withUnsafeBytes { prev in
                    hash.withUnsafeBytes { hashBytes in
                        body(
                            TraceEventRowView(
                                seq: seq, time: time, type: UnsafeRawBufferPointer(typeBytes), body: bodyBytes,
                                prevHash: prev, hash: hashBytes))
                    }
                }
            }
        }
    }
}
