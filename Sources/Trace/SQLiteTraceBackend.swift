import AirlockCore
import SQLiteSupport
import Synchronization

/// The embedded trace backend: one SQLite file (WAL, `synchronous=FULL`).
///
/// Triggers refuse UPDATE and DELETE on events, blobs, checkpoints and the ledger (a guard
/// against mistakes; tampering by someone with the file is caught by ``TraceVerifier``).
final class SQLiteTraceBackend: TraceBackend {
    let location: String
    private let database: Mutex<TraceDatabase>

    init(path: String, configuration: TraceStore.Configuration) throws(TraceError) {
        location = path
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
        let current = String(TraceStore.databaseSchemaVersion)
        guard version == current || (configuration.readOnly && version == "1") else {
            throw TraceError(
                .corrupt, "trace database \(path) has schema '\(version)'; this airlock reads schema \(current)")
        }
        database = Mutex(db)
    }

    private static func createSchema(_ db: TraceDatabase) throws(TraceError) {
        let version = TraceStore.databaseSchemaVersion
        try db.transaction(stage: "create trace schema") { () throws(TraceError) in
            try db.execute(
                """
                CREATE TABLE IF NOT EXISTS trace_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                INSERT OR IGNORE INTO trace_meta(key, value) VALUES ('schema', '\(version)');
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
                CREATE TABLE IF NOT EXISTS ledger(
                    seq INTEGER PRIMARY KEY, body BLOB NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL,
                    key_id TEXT NOT NULL, signature BLOB NOT NULL);
                CREATE TRIGGER IF NOT EXISTS ledger_append_only_u BEFORE UPDATE ON ledger
                    BEGIN SELECT RAISE(ABORT, 'the run ledger is append-only'); END;
                CREATE TRIGGER IF NOT EXISTS ledger_append_only_d BEFORE DELETE ON ledger
                    BEGIN SELECT RAISE(ABORT, 'the run ledger is append-only'); END;
                UPDATE trace_meta SET value = '\(version)' WHERE key = 'schema' AND value = '1';
                """, stage: "create trace schema")
        }
    }

    /// Runs `body` with exclusive use of the connection.
    func withDatabase<T: Sendable>(_ body: (TraceDatabase) throws(TraceError) -> T) throws(TraceError) -> T {
        try database.withLock { (db: inout TraceDatabase) throws(TraceError) -> T in try body(db) }
    }

    // MARK: Reading

    func runs() throws(TraceError) -> [TraceRunSummary] {
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

    func runRow(_ runID: String) throws(TraceError) -> TraceRunSummary? {
        try withDatabase { db throws(TraceError) in
            var out: TraceRunSummary?
            try db.query(
                "SELECT workflow, principal, started_ns, finished_status FROM runs WHERE run_id = ?", [.text(runID)],
                stage: "read run \(runID)"
            ) { row in
                out = TraceRunSummary(
                    runID: runID, workflow: row.text(0) ?? "", principal: row.text(1) ?? "", startedAt: row.int64(2),
                    finishedStatus: row.isNull(3) ? nil : row.text(3), events: 0, steps: 0)
            }
            return out
        }
    }

    func events(runID: String) throws(TraceError) -> [TraceStoredEvent] {
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

    func scanEvents(runID: String, _ row: (TraceEventRowView) -> Void) throws(TraceError) {
        try withDatabase { db throws(TraceError) in
            // The same statement as events(runID:), each row's columns handed over in place.
            try db.query(
                "SELECT seq, type, time_ns, body, prev_hash, hash FROM events WHERE run_id = ? ORDER BY seq",
                [.text(runID)], stage: "read events of run \(runID)"
            ) { statement in
                statement.withBytes(1) { type in
                    statement.withBytes(3) { body in
                        statement.withBytes(4) { prev in
                            statement.withBytes(5) { hash in
                                row(
                                    TraceEventRowView(
                                        seq: statement.int64(0), time: statement.int64(2), type: type, body: body,
                                        prevHash: prev, hash: hash))
                            }
                        }
                    }
                }
            }
        }
    }

    func firstEvents() throws(TraceError) -> [TraceStoredEvent] {
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

    func checkpoints(runID: String) throws(TraceError) -> [TraceCheckpoint] {
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

    func blob(sha256: String) throws(TraceError) -> [UInt8]? {
        try withDatabase { db throws(TraceError) in
            var out: [UInt8]?
            try db.query("SELECT bytes FROM blobs WHERE sha256 = ?", [.text(sha256)], stage: "read blob \(sha256)") {
                row in out = row.blob(0)
            }
            return out
        }
    }

    func ledgerEntries() throws(TraceError) -> [TraceLedger.Entry] {
        try withDatabase { db throws(TraceError) in
            var entries: [TraceLedger.Entry] = []
            var present = false
            try db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger'", stage: "find ledger") {
                _ in present = true
            }
            guard present else { return [] }
            try db.query(
                "SELECT seq, body, prev_hash, hash, key_id, signature FROM ledger ORDER BY seq", stage: "read ledger"
            ) { row in
                entries.append(
                    TraceLedger.Entry(
                        seq: row.int64(0), body: row.blob(1), prevHash: row.blob(2), hash: row.blob(3),
                        keyID: row.text(4) ?? "", signature: row.blob(5)))
            }
            return entries
        }
    }

    func heads() throws(TraceError) -> [String: TraceHead] {
        try withDatabase { db throws(TraceError) in
            var heads: [String: TraceHead] = [:]
            try db.query(
                "SELECT run_id, seq, hash FROM events e WHERE seq = (SELECT MAX(seq) FROM events f WHERE f.run_id = e.run_id)",
                stage: "read run heads"
            ) { row in heads[row.text(0) ?? ""] = TraceHead(seq: row.int64(1), hash: row.blob(2)) }
            return heads
        }
    }

    // MARK: Writing

    func write(stage: String, _ body: (any TraceWriting) throws(TraceError) -> Void) throws(TraceError) {
        try withDatabase { db throws(TraceError) in
            try db.transaction(stage: stage) { () throws(TraceError) in try body(Writer(db: db)) }
        }
    }

    /// The writes of one SQLite transaction.
    private struct Writer: TraceWriting {
        let db: TraceDatabase

        func ledgerHead() throws(TraceError) -> TraceHead? {
            var last: TraceHead?
            try db.query("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1", stage: "read the ledger head") {
                row in last = TraceHead(seq: row.int64(0), hash: row.blob(1))
            }
            return last
        }

        func runIDs() throws(TraceError) -> [String] {
            var ids: [String] = []
            try db.query("SELECT run_id FROM runs ORDER BY started_ns, run_id", stage: "list runs for the ledger") {
                row in ids.append(row.text(0) ?? "")
            }
            return ids
        }

        func insert(ledger entry: TraceLedger.Entry) throws(TraceError) {
            try db.query(
                "INSERT INTO ledger(seq, body, prev_hash, hash, key_id, signature) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    .integer(entry.seq), .blob(entry.body), .blob(entry.prevHash), .blob(entry.hash),
                    .text(entry.keyID), .blob(entry.signature),
                ], stage: "append ledger entry \(entry.seq)")
        }

        func insert(run summary: TraceRunSummary) throws(TraceError) {
            var exists = false
            try db.query("SELECT 1 FROM runs WHERE run_id = ?", [.text(summary.runID)], stage: "look up run") { _ in
                exists = true
            }
            guard !exists else { throw TraceError(.runExists, "run '\(summary.runID)' already exists in the trace") }
            try db.query(
                "INSERT INTO runs(run_id, workflow, principal, started_ns, finished_status) VALUES (?, ?, ?, ?, ?)",
                [
                    .text(summary.runID), .text(summary.workflow), .text(summary.principal),
                    .integer(summary.startedAt), summary.finishedStatus.map { .text($0) } ?? .null,
                ], stage: "record run \(summary.runID)")
        }

        func insert(blob sha256: String, bytes: [UInt8]) throws(TraceError) {
            try db.query(
                "INSERT OR IGNORE INTO blobs(sha256, bytes) VALUES (?, ?)", [.text(sha256), .blob(bytes)],
                stage: "store blob \(sha256)")
        }

        func insert(event: TraceStoredEvent) throws(TraceError) {
            try db.query(
                "INSERT INTO events(run_id, seq, type, time_ns, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(event.runID), .integer(event.seq), .text(event.type), .integer(event.time),
                    .blob(event.body), .blob(event.prevHash), .blob(event.hash),
                ], stage: "append event \(event.seq) (\(event.type)) to run \(event.runID)")
        }

        func insert(checkpoint: TraceCheckpoint) throws(TraceError) {
            try db.query(
                "INSERT INTO checkpoints(run_id, seq, head, key_id, signature, final) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    .text(checkpoint.runID), .integer(checkpoint.seq), .blob(checkpoint.head),
                    .text(checkpoint.keyID), .blob(checkpoint.signature), .integer(checkpoint.isFinal ? 1 : 0),
                ], stage: "store checkpoint \(checkpoint.seq) of run \(checkpoint.runID)")
        }

        func markFinished(runID: String, status: String) throws(TraceError) {
            try db.query(
                "UPDATE runs SET finished_status = ? WHERE run_id = ?", [.text(status), .text(runID)],
                stage: "mark run \(runID) finished")
        }
    }
}
