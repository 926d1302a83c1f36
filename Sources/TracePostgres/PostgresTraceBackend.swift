import Trace

extension TraceError {
    /// The trace's error for a PostgreSQL failure: `run-exists` for a run id someone stored first,
    /// `read-only` when a grant refuses the write, `storage-full` for a full disk, else `storage`.
    public init(_ failure: PostgresFailure) {
        let code: Code =
            switch failure.sqlState {
            case "23505" where failure.stage.hasPrefix("record run"): .runExists
            case "42501", "25006": .readOnly
            case "53100": .storageFull
            default: .storage
            }
        self.init(code, failure.stage, cause: failure.message + (failure.sqlState.map { " (SQLSTATE \($0))" } ?? ""))
    }
}

/// The trace on PostgreSQL: the tables of schema `airlock` (``PostgresSchema``), shared by every
/// host of a site. The same rows as the SQLite file, with one difference of form: a run's final
/// status is its own row in `run_finishes` (an INSERT), because the workers' role may not UPDATE.
///
/// Writers on many hosts append at once: events of different runs do not contend; ledger appends
/// (a run opened, closed or imported) are serialized by a transaction-scoped advisory lock, and the
/// primary keys `(run_id, seq)` and `ledger.seq` refuse a second writer of the same position.
public final class PostgresTraceBackend: TraceBackend {
    /// The connection.
    public let session: PostgresSession
    /// The queue attempt every write is fenced with, or `nil` for an unfenced store.
    public let fence: PostgresFence?
    public var location: String { session.url.description }

    /// The advisory lock key that serializes ledger appends (`'airlock.trace.ledger'` hashed).
    static let ledgerLock: Int64 = 0x6169_726C_6F63_6B01

    /// Opens the trace at `url`. The schema must exist (`airlock db init`).
    /// - Throws: ``TraceError`` `storage` when the server cannot be reached, `corrupt` when the
    ///   database has no Airlock schema or another version of it.
    public convenience init(url: PostgresURL) throws(TraceError) {
        let session: PostgresSession
        do throws(PostgresFailure) {
            session = try PostgresSession(url: url)
        } catch {
            throw TraceError(error)
        }
        try self.init(session: session)
    }

    /// A backend over an open session.
    /// - Parameters:
    ///   - session: the connection.
    ///   - fence: the queue attempt that must still hold its lease for a write to commit (a worker's
    ///     run), or `nil` (default).
    /// - Throws: ``TraceError`` `corrupt` when the database has no Airlock schema or another version.
    public init(session: PostgresSession, fence: PostgresFence? = nil) throws(TraceError) {
        self.session = session
        self.fence = fence
        let rows: [PostgresRecord]
        do {
            rows = try session.query(
                "SELECT value FROM airlock.trace_meta WHERE key = 'schema'", stage: "read schema version")
        } catch  where error.sqlState == "42P01" || error.sqlState == "3F000" {
            throw TraceError(
                .corrupt,
                "\(session.url) has no Airlock trace schema (run `airlock db init --database URL` as its owner)")
        } catch {
            throw TraceError(error)
        }
        let version = rows.first?.text(0) ?? ""
        guard version == String(TraceStore.databaseSchemaVersion) else {
            throw TraceError(
                .corrupt,
                "trace database \(session.url) has schema '\(version)'; this airlock reads schema \(TraceStore.databaseSchemaVersion)"
            )
        }
    }

    private func query(_ sql: String, _ values: [PostgresValue] = [], stage: String) throws(TraceError)
        -> [PostgresRecord]
    {
        do throws(PostgresFailure) {
            return try session.query(sql, values, stage: stage)
        } catch {
            throw TraceError(error)
        }
    }

    static func event(_ row: PostgresRecord, runID: String? = nil) -> TraceStoredEvent {
        let offset = runID == nil ? 1 : 0
        return TraceStoredEvent(
            runID: runID ?? row.text(0) ?? "", seq: row.int64(offset), type: row.text(offset + 1) ?? "",
            time: row.int64(offset + 2), body: row.bytes(offset + 3), prevHash: row.bytes(offset + 4),
            hash: row.bytes(offset + 5))
    }

    // MARK: Reading

    public func runs() throws(TraceError) -> [TraceRunSummary] {
        try query(
            """
            SELECT r.run_id, r.workflow, r.principal, r.started_ns, f.status,
                (SELECT COUNT(*) FROM airlock.events e WHERE e.run_id = r.run_id),
                (SELECT COUNT(*) FROM airlock.events e WHERE e.run_id = r.run_id AND e.type = 'model.request'),
                (SELECT COUNT(*) FROM airlock.events e WHERE e.run_id = r.run_id AND e.type = 'tool.proposed')
            FROM airlock.runs r LEFT JOIN airlock.run_finishes f ON f.run_id = r.run_id
            ORDER BY r.started_ns, r.run_id
            """, stage: "list runs"
        ).map { row in
            TraceRunSummary(
                runID: row.text(0) ?? "", workflow: row.text(1) ?? "", principal: row.text(2) ?? "",
                startedAt: row.int64(3), finishedStatus: row.text(4), events: row.int64(5), steps: row.int64(6),
                calls: row.int64(7))
        }
    }

    public func runRow(_ runID: String) throws(TraceError) -> TraceRunSummary? {
        try query(
            """
            SELECT r.workflow, r.principal, r.started_ns, f.status FROM airlock.runs r
            LEFT JOIN airlock.run_finishes f ON f.run_id = r.run_id WHERE r.run_id = $1
            """, [.text(runID)], stage: "read run \(runID)"
        ).first.map { row in
            TraceRunSummary(
                runID: runID, workflow: row.text(0) ?? "", principal: row.text(1) ?? "", startedAt: row.int64(2),
                finishedStatus: row.text(3), events: 0, steps: 0)
        }
    }

    public func events(runID: String) throws(TraceError) -> [TraceStoredEvent] {
        try query(
            "SELECT seq, type, time_ns, body, prev_hash, hash FROM airlock.events WHERE run_id = $1 ORDER BY seq",
            [.text(runID)], stage: "read events of run \(runID)"
        ).map { Self.event($0, runID: runID) }
    }

    public func firstEvents() throws(TraceError) -> [TraceStoredEvent] {
        try query(
            """
            SELECT e.run_id, e.seq, e.type, e.time_ns, e.body, e.prev_hash, e.hash FROM airlock.events e
            JOIN airlock.runs r ON r.run_id = e.run_id WHERE e.seq = 1 ORDER BY r.started_ns, r.run_id
            """, stage: "read the first events of the runs"
        ).map { Self.event($0) }
    }

    public func checkpoints(runID: String) throws(TraceError) -> [TraceCheckpoint] {
        try query(
            "SELECT seq, head, key_id, signature, final FROM airlock.checkpoints WHERE run_id = $1 ORDER BY seq",
            [.text(runID)], stage: "read checkpoints of run \(runID)"
        ).map { row in
            TraceCheckpoint(
                runID: runID, seq: row.int64(0), head: row.bytes(1), keyID: row.text(2) ?? "",
                signature: row.bytes(3), isFinal: row.bool(4))
        }
    }

    public func blob(sha256: String) throws(TraceError) -> [UInt8]? {
        try query("SELECT bytes FROM airlock.blobs WHERE sha256 = $1", [.text(sha256)], stage: "read blob \(sha256)")
            .first.map { $0.bytes(0) }
    }

    public func ledgerEntries() throws(TraceError) -> [TraceLedger.Entry] {
        try query(
            "SELECT seq, body, prev_hash, hash, key_id, signature FROM airlock.ledger ORDER BY seq",
            stage: "read ledger"
        ).map { row in
            TraceLedger.Entry(
                seq: row.int64(0), body: row.bytes(1), prevHash: row.bytes(2), hash: row.bytes(3),
                keyID: row.text(4) ?? "", signature: row.bytes(5))
        }
    }

    public func heads() throws(TraceError) -> [String: TraceHead] {
        var heads: [String: TraceHead] = [:]
        for row in try query(
            "SELECT DISTINCT ON (run_id) run_id, seq, hash FROM airlock.events ORDER BY run_id, seq DESC",
            stage: "read run heads")
        {
            heads[row.text(0) ?? ""] = TraceHead(seq: row.int64(1), hash: row.bytes(2))
        }
        return heads
    }

    // MARK: Writing

    public func write(stage: String, _ body: (any TraceWriting) throws(TraceError) -> Void) throws(TraceError) {
        try session.transaction(stage: stage, mapFailure: TraceError.init) { tx throws(TraceError) in
            if let fence { try fence.check(tx, stage: stage) }
            try body(Writer(tx: tx))
        }
    }

    private struct Writer: TraceWriting {
        let tx: PostgresTransaction

        @discardableResult
        func run(_ sql: String, _ values: [PostgresValue] = [], stage: String) throws(TraceError) -> [PostgresRecord] {
            do throws(PostgresFailure) {
                return try tx.query(sql, values, stage: stage)
            } catch {
                throw TraceError(error)
            }
        }

        func ledgerHead() throws(TraceError) -> TraceHead? {
            // Held to the end of the transaction: one ledger writer at a time across every host.
            try run(
                "SELECT pg_advisory_xact_lock($1)", [.integer(PostgresTraceBackend.ledgerLock)],
                stage: "lock the ledger")
            return try run(
                "SELECT seq, hash FROM airlock.ledger ORDER BY seq DESC LIMIT 1", stage: "read the ledger head"
            )
            .first.map { TraceHead(seq: $0.int64(0), hash: $0.bytes(1)) }
        }

        func runIDs() throws(TraceError) -> [String] {
            try run("SELECT run_id FROM airlock.runs ORDER BY started_ns, run_id", stage: "list runs for the ledger")
                .map { $0.text(0) ?? "" }
        }

        func insert(ledger entry: TraceLedger.Entry) throws(TraceError) {
            try run(
                "INSERT INTO airlock.ledger(seq, body, prev_hash, hash, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6)",
                [
                    .integer(entry.seq), .bytes(entry.body), .bytes(entry.prevHash), .bytes(entry.hash),
                    .text(entry.keyID), .bytes(entry.signature),
                ], stage: "append ledger entry \(entry.seq)")
        }

        func insert(run summary: TraceRunSummary) throws(TraceError) {
            let exists = try run(
                "SELECT 1 FROM airlock.runs WHERE run_id = $1", [.text(summary.runID)], stage: "look up run")
            guard exists.isEmpty else {
                throw TraceError(.runExists, "run '\(summary.runID)' already exists in the trace")
            }
            try run(
                "INSERT INTO airlock.runs(run_id, workflow, principal, started_ns) VALUES ($1, $2, $3, $4)",
                [.text(summary.runID), .text(summary.workflow), .text(summary.principal), .integer(summary.startedAt)],
                stage: "record run \(summary.runID)")
            if let status = summary.finishedStatus { try markFinished(runID: summary.runID, status: status) }
        }

        func insert(blob sha256: String, bytes: [UInt8]) throws(TraceError) {
            try run(
                "INSERT INTO airlock.blobs(sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING",
                [.text(sha256), .bytes(bytes)], stage: "store blob \(sha256)")
        }

        func insert(event: TraceStoredEvent) throws(TraceError) {
            try run(
                """
                INSERT INTO airlock.events(run_id, seq, type, time_ns, body, prev_hash, hash)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """,
                [
                    .text(event.runID), .integer(event.seq), .text(event.type), .integer(event.time),
                    .bytes(event.body), .bytes(event.prevHash), .bytes(event.hash),
                ], stage: "append event \(event.seq) (\(event.type)) to run \(event.runID)")
        }

        func insert(checkpoint: TraceCheckpoint) throws(TraceError) {
            try run(
                """
                INSERT INTO airlock.checkpoints(run_id, seq, head, key_id, signature, final)
                VALUES ($1, $2, $3, $4, $5, $6)
                """,
                [
                    .text(checkpoint.runID), .integer(checkpoint.seq), .bytes(checkpoint.head),
                    .text(checkpoint.keyID), .bytes(checkpoint.signature), .bool(checkpoint.isFinal),
                ], stage: "store checkpoint \(checkpoint.seq) of run \(checkpoint.runID)")
        }

        func markFinished(runID: String, status: String) throws(TraceError) {
            try run(
                "INSERT INTO airlock.run_finishes(run_id, status) VALUES ($1, $2)", [.text(runID), .text(status)],
                stage: "mark run \(runID) finished")
        }
    }
}

/// A queue attempt's claim on a run, checked inside every trace transaction it writes: the write
/// commits only if the queue row still names this attempt and worker, in state `running`, with an
/// unexpired lease. The row is read `FOR SHARE`, so a rescuer's takeover (an UPDATE of that row)
/// waits for the write's commit, and a write that starts after the takeover finds another attempt
/// number and is refused: a worker that lost its lease cannot write, however late it wakes.
public struct PostgresFence: Sendable, Hashable {
    /// The run (the queue row and the trace run share the id).
    public var runID: String
    /// The attempt number the claim returned.
    public var attempt: Int64
    /// The worker that holds it.
    public var worker: String

    /// Creates a fence.
    public init(runID: String, attempt: Int64, worker: String) {
        self.runID = runID
        self.attempt = attempt
        self.worker = worker
    }

    /// Checks the claim inside `tx`.
    /// - Throws: ``TraceError`` `read-only` ("fenced") when the attempt no longer holds the run.
    public func check(_ tx: PostgresTransaction, stage: String) throws(TraceError) {
        let rows: [PostgresRecord]
        do throws(PostgresFailure) {
            rows = try tx.query(
                """
                SELECT attempt, worker, state, lease_until > clock_timestamp() FROM airlock.queue
                WHERE run_id = $1 FOR SHARE
                """, [.text(runID)], stage: "fence \(stage)")
        } catch {
            throw TraceError(error)
        }
        guard let row = rows.first else {
            throw TraceError(.readOnly, "\(stage): fenced: run \(runID) is not in the queue")
        }
        guard row.int64(0) == attempt, row.text(1) == worker, row.text(2) == "running", row.bool(3) else {
            throw TraceError(
                .readOnly,
                "\(stage): fenced: attempt \(attempt) of run \(runID) by \(worker) no longer holds the lease (the queue has attempt \(row.int64(0)) by \(row.text(1) ?? "nobody"), \(row.text(2) ?? "?"))"
            )
        }
    }
}
