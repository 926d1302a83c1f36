import AirlockCore
import Foundation
import SQLiteSupport
import Synchronization

/// The trace database: one SQLite file (WAL) holding runs, events, blobs and checkpoints.
///
/// Events are append-only: triggers refuse UPDATE and DELETE on events, blobs and checkpoints
/// (a guard against mistakes; tampering by someone with the file is caught by ``TraceVerifier``).
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

    /// The database file.
    public let path: String
    private let database: Mutex<TraceDatabase>

    /// Opens (creating if needed) the trace database at `path`.
    /// - Throws: ``TraceError`` naming the path and the stage.
    public init(path: String, configuration: Configuration = Configuration()) throws(TraceError) {
        self.path = path
        // WAL with synchronous=FULL: every commit fsyncs the WAL, so a returned append is on disk
        // (NORMAL would only be durable at the next WAL checkpoint).
        let db = try TraceDatabase(
            path: path,
            configuration: .init(
                readOnly: configuration.readOnly, busyTimeoutMilliseconds: configuration.busyTimeoutMilliseconds,
                writeAheadLog: true, synchronous: configuration.durable ? .full : .off),
            mapError: TraceError.init)
        if !configuration.readOnly { try Self.createSchema(db) }
        var pageSize: Int64 = 4096
        try db.query("PRAGMA page_size", stage: "read page size") { row in pageSize = row.int64(0) }
        try db.execute(
            "PRAGMA max_page_count=\(max(1, configuration.maxDatabaseBytes / max(pageSize, 512)))",
            stage: "set size bound")
        var version = ""
        try db.query("SELECT value FROM trace_meta WHERE key = 'schema'", stage: "read schema version") { row in
            version = row.text(0) ?? ""
        }
        guard version == String(Self.databaseSchemaVersion) || (configuration.readOnly && version == "1") else {
            throw TraceError(
                .corrupt,
                "trace database \(path) has schema '\(version)'; this airlock reads schema \(Self.databaseSchemaVersion)"
            )
        }
        database = Mutex(db)
    }

    private static func createSchema(_ db: TraceDatabase) throws(TraceError) {
        try db.transaction(stage: "create trace schema") { () throws(TraceError) in
            try db.execute(
                """
                CREATE TABLE IF NOT EXISTS trace_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                INSERT OR IGNORE INTO trace_meta(key, value) VALUES ('schema', '\(databaseSchemaVersion)');
                CREATE TABLE IF NOT EXISTS runs(
                    run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, principal TEXT NOT NULL,
                    started_ns INTEGER NOT NULL, finished_status TEXT);
                CREATE TABLE IF NOT EXISTS events(
                    run_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, time_ns INTEGER NOT NULL,
                    body BLOB NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL, UNIQUE(run_id, seq));
                CREATE TABLE IF NOT EXISTS blobs(sha256 TEXT PRIMARY KEY, bytes BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS checkpoints(
                    run_id TEXT NOT NULL, seq INTEGER NOT NULL, head BLOB NOT NULL, key_id TEXT NOT NULL,
                    signature BLOB NOT NULL, final INTEGER NOT NULL, UNIQUE(run_id, seq));
                CREATE TRIGGER IF NOT EXISTS events_append_only_u BEFORE UPDATE ON events
                    BEGIN SELECT RAISE(ABORT, 'trace events are append-only'); END;
                CREATE TRIGGER IF NOT EXISTS events_append_only_d BEFORE DELETE ON events
                    BEGIN SELECT RAISE(ABORT, 'trace events are append-only'); END;
                CREATE TRIGGER IF NOT EXISTS blobs_append_only_u BEFORE UPDATE ON blobs
                    BEGIN SELECT RAISE(ABORT, 'trace blobs are append-only'); END;
                CREATE TRIGGER IF NOT EXISTS checkpoints_append_only_u BEFORE UPDATE ON checkpoints
                    BEGIN SELECT RAISE(ABORT, 'trace checkpoints are append-only'); END;
                \(TraceLedger.createSQL)
                UPDATE trace_meta SET value = '\(databaseSchemaVersion)' WHERE key = 'schema' AND value = '1';
                """, stage: "create trace schema")
        }
    }

    /// Runs `body` with exclusive use of the connection.
    func withDatabase<T: Sendable>(_ body: (TraceDatabase) throws(TraceError) -> T) throws(TraceError) -> T {
        try database.withLock { (db: inout TraceDatabase) throws(TraceError) -> T in try body(db) }
    }

    // MARK: Reading

    /// Every run, oldest first.
    /// - Throws: ``TraceError`` when the database cannot be read.
    public func runs() throws(TraceError) -> [TraceRunSummary] {
        try withDatabase { db throws(TraceError) in
            var out: [TraceRunSummary] = []
            try db.query(
                """
                SELECT r.run_id, r.workflow, r.principal, r.started_ns, r.finished_status,
                    (SELECT COUNT(*) FROM events e WHERE e.run_id = r.run_id),
                    (SELECT COUNT(*) FROM events e WHERE e.run_id = r.run_id AND e.type = 'model.request'),
                    (SELECT COUNT(*) FROM events e WHERE e.run_id = r.run_id AND e.type = 'tool.proposed')
                FROM runs r ORDER BY r.started_ns, r.run_id
                """, stage: "list runs"
            ) { row in
                out.append(
                    TraceRunSummary(
                        runID: row.text(0) ?? "", workflow: row.text(1) ?? "", principal: row.text(2) ?? "",
                        startedAt: row.int64(3), finishedStatus: row.isNull(4) ? nil : row.text(4),
                        events: row.int64(5), steps: row.int64(6), calls: row.int64(7)))
            }
            return out
        }
    }

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
    public func events(runID: String) throws(TraceError) -> [TraceStoredEvent] {
        try withDatabase { db throws(TraceError) in
            var out: [TraceStoredEvent] = []
            try db.query(
                "SELECT seq, type, time_ns, body, prev_hash, hash FROM events WHERE run_id = ? ORDER BY seq",
                [.text(runID)], stage: "read events of run \(runID)"
            ) { row in
                out.append(
                    TraceStoredEvent(
                        runID: runID, seq: row.int64(0), type: row.text(1) ?? "", time: row.int64(2),
                        body: row.blob(3), prevHash: row.blob(4), hash: row.blob(5)))
            }
            return out
        }
    }

    /// The first event of every run (its `run.started`), oldest run first: for a listing that needs
    /// each run's setup and none of its steps (`airlock workspaces list`). Not verified.
    /// - Throws: ``TraceError`` when the database cannot be read.
    public func firstEvents() throws(TraceError) -> [TraceStoredEvent] {
        try withDatabase { db throws(TraceError) in
            var out: [TraceStoredEvent] = []
            try db.query(
                """
                SELECT e.run_id, e.seq, e.type, e.time_ns, e.body, e.prev_hash, e.hash FROM events e
                JOIN runs r ON r.run_id = e.run_id WHERE e.seq = 1 ORDER BY r.started_ns, r.run_id
                """, stage: "read the first events of the runs"
            ) { row in
                out.append(
                    TraceStoredEvent(
                        runID: row.text(0) ?? "", seq: row.int64(1), type: row.text(2) ?? "", time: row.int64(3),
                        body: row.blob(4), prevHash: row.blob(5), hash: row.blob(6)))
            }
            return out
        }
    }

    /// A run's checkpoints in sequence order.
    /// - Throws: ``TraceError`` when the database cannot be read.
    public func checkpoints(runID: String) throws(TraceError) -> [TraceCheckpoint] {
        try withDatabase { db throws(TraceError) in
            var out: [TraceCheckpoint] = []
            try db.query(
                "SELECT seq, head, key_id, signature, final FROM checkpoints WHERE run_id = ? ORDER BY seq",
                [.text(runID)], stage: "read checkpoints of run \(runID)"
            ) { row in
                out.append(
                    TraceCheckpoint(
                        runID: runID, seq: row.int64(0), head: row.blob(1), keyID: row.text(2) ?? "",
                        signature: row.blob(3), isFinal: row.int64(4) != 0))
            }
            return out
        }
    }

    /// The bytes stored for a blob, or `nil`.
    /// - Parameter sha256: 64 lowercase hex digits.
    /// - Throws: ``TraceError`` when the database cannot be read.
    public func blob(sha256: String) throws(TraceError) -> [UInt8]? {
        try withDatabase { db throws(TraceError) in
            var out: [UInt8]?
            try db.query("SELECT bytes FROM blobs WHERE sha256 = ?", [.text(sha256)], stage: "read blob \(sha256)") {
                row in out = row.blob(0)
            }
            return out
        }
    }

    /// Everything stored for one run, as export and verify need it.
    /// - Throws: ``TraceError`` `run-not-found`, or when the database cannot be read.
    public func bundle(runID: String) throws(TraceError) -> TraceRunBundle {
        let events = try events(runID: runID)
        // Counted from the events in hand: the counting query of runs() would read every body again.
        let found: TraceRunSummary? = try withDatabase { db throws(TraceError) in
            var out: TraceRunSummary?
            try db.query(
                "SELECT workflow, principal, started_ns, finished_status FROM runs WHERE run_id = ?", [.text(runID)],
                stage: "read run \(runID)"
            ) { row in
                var summary = TraceRunSummary(
                    runID: runID, workflow: row.text(0) ?? "", principal: row.text(1) ?? "", startedAt: row.int64(2),
                    finishedStatus: row.isNull(3) ? nil : row.text(3), events: 0, steps: 0)
                summary.count(events)
                out = summary
            }
            return out
        }
        guard let summary = found else {
            throw TraceError(.runNotFound, "no run '\(runID)' in \(path) (see: airlock trace list)")
        }
        var blobs: [String: [UInt8]] = [:]
        for event in events {
            for digest in TracePayloadPreparer.blobReferences(in: event.body) where blobs[digest] == nil {
                if let bytes = try blob(sha256: digest) { blobs[digest] = bytes }
            }
        }
        return TraceRunBundle(
            summary: summary, events: events, checkpoints: try checkpoints(runID: runID), blobs: blobs)
    }

    // MARK: Writing (used by RunRecorder and import)

    static func insert(_ event: TraceStoredEvent, into db: TraceDatabase) throws(TraceError) {
        try db.query(
            "INSERT INTO events(run_id, seq, type, time_ns, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                .text(event.runID), .integer(event.seq), .text(event.type), .integer(event.time), .blob(event.body),
                .blob(event.prevHash), .blob(event.hash),
            ], stage: "append event \(event.seq) (\(event.type)) to run \(event.runID)")
    }

    static func insertBlob(sha256: String, bytes: [UInt8], into db: TraceDatabase) throws(TraceError) {
        try db.query(
            "INSERT OR IGNORE INTO blobs(sha256, bytes) VALUES (?, ?)", [.text(sha256), .blob(bytes)],
            stage: "store blob \(sha256)")
    }

    static func insert(_ checkpoint: TraceCheckpoint, into db: TraceDatabase) throws(TraceError) {
        try db.query(
            "INSERT INTO checkpoints(run_id, seq, head, key_id, signature, final) VALUES (?, ?, ?, ?, ?, ?)",
            [
                .text(checkpoint.runID), .integer(checkpoint.seq), .blob(checkpoint.head), .text(checkpoint.keyID),
                .blob(checkpoint.signature), .integer(checkpoint.isFinal ? 1 : 0),
            ], stage: "store checkpoint \(checkpoint.seq) of run \(checkpoint.runID)")
    }

    static func insertRun(_ summary: TraceRunSummary, into db: TraceDatabase) throws(TraceError) {
        var exists = false
        try db.query("SELECT 1 FROM runs WHERE run_id = ?", [.text(summary.runID)], stage: "look up run") { _ in
            exists = true
        }
        guard !exists else { throw TraceError(.runExists, "run '\(summary.runID)' already exists in the trace") }
        try db.query(
            "INSERT INTO runs(run_id, workflow, principal, started_ns, finished_status) VALUES (?, ?, ?, ?, ?)",
            [
                .text(summary.runID), .text(summary.workflow), .text(summary.principal), .integer(summary.startedAt),
                summary.finishedStatus.map { .text($0) } ?? .null,
            ], stage: "record run \(summary.runID)")
    }

    static func markFinished(runID: String, status: String, in db: TraceDatabase) throws(TraceError) {
        try db.query(
            "UPDATE runs SET finished_status = ? WHERE run_id = ?", [.text(status), .text(runID)],
            stage: "mark run \(runID) finished")
    }

    /// Stores a verified bundle (import) in one transaction.
    func insert(_ bundle: TraceRunBundle, ledgerKey: TraceSigningKey) throws(TraceError) {
        let summary = bundle.summary
        try withDatabase { db throws(TraceError) in
            try db.transaction(stage: "import run \(bundle.summary.runID)") { () throws(TraceError) in
                try TraceLedger.append(
                    [
                        "entry": "imported", "run": .string(summary.runID), "workflow": .string(summary.workflow),
                        "principal": .string(summary.principal), "started_ns": .integer(summary.startedAt),
                        "status": summary.finishedStatus.map(JSONValue.string) ?? .null,
                        "events": .integer(bundle.events.last?.seq ?? 0),
                        "head": .string(bundle.events.last.map { Hex.encode($0.hash) } ?? ""),
                    ], key: ledgerKey, into: db)
                try Self.insertRun(bundle.summary, into: db)
                for (digest, bytes) in bundle.blobs { try Self.insertBlob(sha256: digest, bytes: bytes, into: db) }
                for event in bundle.events { try Self.insert(event, into: db) }
                for checkpoint in bundle.checkpoints { try Self.insert(checkpoint, into: db) }
            }
        }
    }
}
