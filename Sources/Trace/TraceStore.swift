import AirlockCore
import Foundation

/// The trace database: runs, events, blobs, checkpoints and the run ledger, in one SQLite file
/// (the embedded default, ``init(path:configuration:)``) or in a database shared by many hosts
/// (``init(backend:)``: PostgreSQL, module `TracePostgres`).
///
/// Whatever the backend, events are append-only and every commit of a recorder (a step's barrier,
/// ``RunRecorder/commit()``) is one durable transaction; the chain, checkpoints, ledger and verification are computed here and in
/// ``RunRecorder``, ``TraceLedger`` and ``TraceVerifier``, never by a backend.
public final class TraceStore: Sendable {
    /// How the store opens its database.
    public struct Configuration: Sendable {
        /// Open without write access (default `false`).
        public var readOnly: Bool
        /// How long to wait for another process's write lock, in milliseconds (default 5000).
        public var busyTimeoutMilliseconds: Int32
        /// The largest the database may grow, in bytes (default 64 GiB); beyond it appends fail
        /// with `storage-full`, exactly as on a full disk.
        public var maxDatabaseBytes: Int64
        /// Whether a returned append is on disk (default `true`). Only a scratch store that is
        /// thrown away (replay's) may turn this off; the trace of record never does.
        public var durable: Bool

        /// Creates a configuration.
        /// - Parameters:
        ///   - readOnly: open without write access (default `false`).
        ///   - busyTimeoutMilliseconds: lock wait in ms (default 5000).
        ///   - maxDatabaseBytes: size bound in bytes (default 64 GiB).
        ///   - durable: fsync every commit (default `true`).
        public init(
            readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 5000, maxDatabaseBytes: Int64 = 64 << 30,
            durable: Bool = true
        ) {
            self.readOnly = readOnly
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
            self.maxDatabaseBytes = maxDatabaseBytes
            self.durable = durable
        }
    }

    /// The database schema this code writes: 2 adds the run ledger (``TraceLedger``). A schema-1
    /// database is migrated when opened for writing (the ledger's first entry adopts its runs)
    /// and read as it is when opened read-only.
    public static let databaseSchemaVersion = 2

    /// Where the rows live.
    public let backend: any TraceBackend

    /// The database: a file path, or a URL without its password.
    public var path: String { backend.location }

    /// Opens (creating if needed) the SQLite trace database at `path`.
    /// - Throws: ``TraceError`` naming the path and the stage.
    public convenience init(path: String, configuration: Configuration = Configuration()) throws(TraceError) {
        self.init(backend: try SQLiteTraceBackend(path: path, configuration: configuration))
    }

    /// A store over another backend.
    /// - Parameter backend: where the rows live.
    public init(backend: any TraceBackend) {
        self.backend = backend
    }

    /// Runs `body` with exclusive use of the SQLite connection (tests tamper through it).
    /// - Throws: ``TraceError`` `storage` when the backend is not SQLite.
    func withDatabase<T: Sendable>(_ body: (TraceDatabase) throws(TraceError) -> T) throws(TraceError) -> T {
        guard let sqlite = backend as? SQLiteTraceBackend else {
            throw TraceError(.storage, "\(path) is not a SQLite trace database")
        }
        return try sqlite.withDatabase(body)
    }

    // MARK: Reading

    /// Every run, oldest first.
    /// - Throws: ``TraceError`` when the database cannot be read.
    public func runs() throws(TraceError) -> [TraceRunSummary] { try backend.runs() }

    /// One run's summary.
    /// - Throws: ``TraceError`` `run-not-found` when there is no such run.
    public func run(_ runID: String) throws(TraceError) -> TraceRunSummary {
        guard let found = try runs().first(where: { $0.runID == runID }) else {
            throw TraceError(.runNotFound, "no run '\(runID)' in \(path) (see: airlock trace list)")
        }
        return found
    }

    /// A run's events in sequence order.
    /// - Throws: ``TraceError`` when the database cannot be read.
    public func events(runID: String) throws(TraceError) -> [TraceStoredEvent] { try backend.events(runID: runID) }

    /// The first event of every run (its `run.started`), oldest run first: for a listing that needs
    /// each run's setup and none of its steps (`airlock workspaces list`). Not verified.
    /// - Throws: ``TraceError`` when the database cannot be read.
    public func firstEvents() throws(TraceError) -> [TraceStoredEvent] { try backend.firstEvents() }

    /// A run's checkpoints in sequence order.
    /// - Throws: ``TraceError`` when the database cannot be read.
    public func checkpoints(runID: String) throws(TraceError) -> [TraceCheckpoint] {
        try backend.checkpoints(runID: runID)
    }

    /// The bytes stored for a blob, or `nil`.
    /// - Parameter sha256: 64 lowercase hex digits.
    /// - Throws: ``TraceError`` when the database cannot be read.
    public func blob(sha256: String) throws(TraceError) -> [UInt8]? { try backend.blob(sha256: sha256) }

    /// Everything stored for one run, as export and verify need it.
    /// - Throws: ``TraceError`` `run-not-found`, or when the database cannot be read.
    public func bundle(runID: String) throws(TraceError) -> TraceRunBundle {
        let events = try events(runID: runID)
        // Counted from the events in hand: the counting query of runs() would read every body again.
        guard var summary = try backend.runRow(runID) else {
            throw TraceError(.runNotFound, "no run '\(runID)' in \(path) (see: airlock trace list)")
        }
        summary.count(events)
        var blobs: [String: [UInt8]] = [:]
        for event in events {
            for digest in TracePayloadPreparer.blobReferences(in: event.body) where blobs[digest] == nil {
                if let bytes = try blob(sha256: digest) { blobs[digest] = bytes }
            }
        }
        return TraceRunBundle(
            summary: summary, events: events, checkpoints: try checkpoints(runID: runID), blobs: blobs)
    }

    // MARK: Writing (import)

    /// Stores a verified bundle (import, `trace copy`) in one transaction, with an `imported`
    /// ledger entry signed by `ledgerKey`.
    func insert(_ bundle: TraceRunBundle, ledgerKey: TraceSigningKey) throws(TraceError) {
        let summary = bundle.summary
        try backend.write(stage: "import run \(summary.runID)") { tx throws(TraceError) in
            try TraceLedger.append(
                [
                    "entry": "imported", "run": .string(summary.runID), "workflow": .string(summary.workflow),
                    "principal": .string(summary.principal), "started_ns": .integer(summary.startedAt),
                    "status": summary.finishedStatus.map(JSONValue.string) ?? .null,
                    "events": .integer(bundle.events.last?.seq ?? 0),
                    "head": .string(bundle.events.last.map { Hex.encode($0.hash) } ?? ""),
                ], key: ledgerKey, into: tx)
            try tx.insert(run: summary)
            for (digest, bytes) in bundle.blobs { try tx.insert(blob: digest, bytes: bytes) }
            for event in bundle.events { try tx.insert(event: event) }
            for checkpoint in bundle.checkpoints { try tx.insert(checkpoint: checkpoint) }
        }
    }
}
