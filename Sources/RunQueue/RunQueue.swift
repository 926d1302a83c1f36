import AirlockCore
import Foundation
import Trace
import TracePostgres

/// Why the queue could not do what it was asked.
public typealias QueueError = AirlockError<QueueErrorCode>

/// What kind of failure a ``QueueError`` is, and the exit status it ends a command with.
public enum QueueErrorCode: String, AirlockErrorCode {
    /// No queued run with that id (exit 66).
    case notFound = "not-found"
    /// A bad argument: a run id, a parameter, a workflow that is not a file (exit 64).
    case usage
    /// The run is not in a state that allows it: cancel a finished run (exit 1).
    case state
    /// The database could not be used (exit 74).
    case storage

    public var exitStatus: CommandExit {
        switch self {
        case .notFound: .noInput
        case .usage: .usage
        case .state: .checkFailed
        case .storage: .ioError
        }
    }
}

extension QueueError {
    init(_ failure: PostgresFailure) { self.init(.storage, failure.description) }
}

/// One row of the queue.
public struct QueuedRun: Sendable, Hashable {
    /// The run id (the trace run has the same id).
    public var runID: String
    /// The workflow file's absolute path, the same on every worker host.
    public var workflow: String
    /// Its SHA-256 at submission: a worker refuses a workflow that changed since.
    public var workflowSHA256: String
    /// The task parameters.
    public var parameters: [String: String]
    /// `--model` as submitted, or `nil` for the embedded model.
    public var model: String?
    /// Who submitted it (the run's principal).
    public var principal: String
    /// `queued`, `running`, `finished`, `abandoned` or `cancelled`.
    public var state: String
    /// How many times it was claimed (by a worker or a rescuer).
    public var attempt: Int64
    /// The worker holding or last holding it.
    public var worker: String?
    /// When its lease ends (while running).
    public var leaseUntil: String?
    /// When it was submitted.
    public var submittedAt: String
    /// The run's final status (`finished`), or `abandoned`, `cancelled`.
    public var status: String?
    /// Why it ended as it did, when it did not finish by itself.
    public var reason: String?
    /// Whether `runs cancel` asked a running run to stop.
    public var cancelRequested: Bool
}

/// A worker's claim on a run: what it runs, and the fence its writes carry.
public struct RunClaim: Sendable, Hashable {
    /// The run.
    public var run: QueuedRun
    /// The fence: run id, attempt, worker.
    public var fence: PostgresFence
}

/// What a heartbeat found.
public enum Heartbeat: Sendable, Hashable {
    /// The lease was renewed.
    case renewed(cancelRequested: Bool)
    /// The lease is lost: expired, or taken by a rescuer. The run must stop; its writes are fenced.
    case lost
}

/// The run queue in the site's PostgreSQL database (`airlock.queue`, docs/scale.md): submit,
/// claim with `FOR UPDATE SKIP LOCKED`, leases renewed by heartbeat, finish fenced by attempt,
/// cancel, list. Every change of state also appends a row to `airlock.queue_events`.
public final class RunQueue: Sendable {
    /// The connection (a worker uses one for claims and another for heartbeats).
    public let session: PostgresSession

    /// A queue over `session`.
    public init(session: PostgresSession) {
        self.session = session
    }

    static let columns = """
        run_id, workflow, workflow_sha256, parameters, model, principal, state, attempt, worker,
        lease_until::text, submitted_at::text, status, reason, cancel_requested
        """

    static func row(_ row: PostgresRecord) -> QueuedRun {
        var parameters: [String: String] = [:]
        if let text = row.text(3), let value = try? JSONParser().parse(Array(text.utf8)),
            let members = value.objectValue
        {
            for (name, value) in members { parameters[name] = value.stringValue ?? "" }
        }
        return QueuedRun(
            runID: row.text(0) ?? "", workflow: row.text(1) ?? "", workflowSHA256: row.text(2) ?? "",
            parameters: parameters, model: row.text(4), principal: row.text(5) ?? "", state: row.text(6) ?? "",
            attempt: row.int64(7), worker: row.text(8), leaseUntil: row.text(9), submittedAt: row.text(10) ?? "",
            status: row.text(11), reason: row.text(12), cancelRequested: row.bool(13))
    }

    private func query(_ sql: String, _ values: [PostgresValue] = [], stage: String) throws(QueueError)
        -> [PostgresRecord]
    {
        do throws(PostgresFailure) {
            return try session.query(sql, values, stage: stage)
        } catch {
            throw QueueError(error)
        }
    }

    private func transaction<T>(stage: String, _ body: (PostgresTransaction) throws(PostgresFailure) -> T)
        throws(QueueError) -> T
    {
        try session.transaction(stage: stage, mapFailure: QueueError.init) { tx throws(QueueError) -> T in
            do throws(PostgresFailure) {
                return try body(tx)
            } catch {
                throw QueueError(error)
            }
        }
    }

    static func note(
        _ tx: PostgresTransaction, runID: String, attempt: Int64, worker: String?, kind: String, detail: String?
    ) throws(PostgresFailure) {
        try tx.query(
            "INSERT INTO airlock.queue_events(run_id, attempt, worker, kind, detail) VALUES ($1, $2, $3, $4, $5)",
            [
                .text(runID), .integer(attempt), worker.map(PostgresValue.text) ?? .null, .text(kind),
                detail.map(PostgresValue.text) ?? .null,
            ],
            stage: "note \(kind) of run \(runID)")
    }

    // MARK: Submitting and reading

    /// Enqueues a run.
    /// - Parameters:
    ///   - workflow: the workflow file (absolute; the same path on every worker host).
    ///   - parameters: the task parameters.
    ///   - model: `--model` (`script:FILE`, `http://…`, `unix:PATH`), or `nil` for the embedded model.
    ///   - principal: who asks.
    ///   - runID: the run id (default a new UUID).
    /// - Returns: the queued row.
    /// - Throws: ``QueueError`` `usage` (no such file, a bad id), `state` (the id is taken), `storage`.
    @discardableResult
    public func submit(
        workflow: URL, parameters: [String: String], model: String?, principal: String, runID: String? = nil
    ) throws(QueueError) -> QueuedRun {
        let id = runID ?? UUID().uuidString.lowercased()
        do {
            try RunRecorder.validate(runID: id)
        } catch {
            throw QueueError(.usage, error.description)
        }
        guard let data = FileManager.default.contents(atPath: workflow.path) else {
            throw QueueError(.usage, "no workflow file at \(workflow.path)")
        }
        let encoded = JSONValue.object(parameters.mapValues(JSONValue.string)).canonicalBytes
        let rows: [PostgresRecord]
        do {
            rows = try transaction(stage: "submit run \(id)") { tx throws(PostgresFailure) in
                let rows = try tx.query(
                    """
                    INSERT INTO airlock.queue(run_id, workflow, workflow_sha256, parameters, model, principal)
                    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id) DO NOTHING RETURNING \(Self.columns)
                    """,
                    [
                        .text(id), .text(workflow.path), .text(SHA256.hex(Array(data))),
                        .text(String(decoding: encoded, as: UTF8.self)), model.map(PostgresValue.text) ?? .null,
                        .text(principal),
                    ], stage: "submit run \(id)")
                if !rows.isEmpty {
                    try Self.note(tx, runID: id, attempt: 0, worker: nil, kind: "submitted", detail: workflow.path)
                }
                return rows
            }
        }
        guard let row = rows.first else { throw QueueError(.state, "run \(id) is already in the queue") }
        return Self.row(row)
    }

    /// Every run in the queue, oldest first; only those in `state` when given.
    /// - Throws: ``QueueError`` `storage`.
    public func list(state: String? = nil) throws(QueueError) -> [QueuedRun] {
        if let state {
            return try query(
                "SELECT \(Self.columns) FROM airlock.queue WHERE state = $1 ORDER BY submitted_at, run_id",
                [.text(state)], stage: "list the queue"
            ).map(Self.row)
        }
        return try query(
            "SELECT \(Self.columns) FROM airlock.queue ORDER BY submitted_at, run_id", stage: "list the queue"
        )
        .map(Self.row)
    }

    /// One run.
    /// - Throws: ``QueueError`` `not-found`, `storage`.
    public func show(_ runID: String) throws(QueueError) -> QueuedRun {
        guard
            let row = try query(
                "SELECT \(Self.columns) FROM airlock.queue WHERE run_id = $1", [.text(runID)],
                stage: "read run \(runID)"
            ).first
        else { throw QueueError(.notFound, "no run '\(runID)' in the queue (see: airlock runs list)") }
        return Self.row(row)
    }

    /// A run's history: (time, attempt, worker, kind, detail), oldest first.
    /// - Throws: ``QueueError`` `storage`.
    public func history(_ runID: String) throws(QueueError) -> [(
        at: String, attempt: Int64, worker: String?, kind: String, detail: String?
    )] {
        try query(
            "SELECT at::text, attempt, worker, kind, detail FROM airlock.queue_events WHERE run_id = $1 ORDER BY id",
            [.text(runID)], stage: "read the history of run \(runID)"
        ).map { ($0.text(0) ?? "", $0.int64(1), $0.text(2), $0.text(3) ?? "", $0.text(4)) }
    }

    /// Cancels a run: a queued one at once (`cancelled`); a running one is asked to stop (its
    /// worker sees it at its next heartbeat and cancels the run, which records `cancelled`).
    /// - Returns: the row after the change.
    /// - Throws: ``QueueError`` `not-found`; `state` when it already ended.
    @discardableResult
    public func cancel(_ runID: String, by who: String) throws(QueueError) -> QueuedRun {
        let changed = try transaction(stage: "cancel run \(runID)") { tx throws(PostgresFailure) -> Bool in
            let rows = try tx.query(
                """
                UPDATE airlock.queue SET
                    state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
                    status = CASE WHEN state = 'queued' THEN 'cancelled' ELSE status END,
                    reason = CASE WHEN state = 'queued' THEN $2 ELSE reason END,
                    cancel_requested = true, updated_at = clock_timestamp()
                WHERE run_id = $1 AND state IN ('queued', 'running') RETURNING attempt
                """, [.text(runID), .text("cancelled by \(who) before it started")], stage: "cancel run \(runID)")
            guard let row = rows.first else { return false }
            try Self.note(tx, runID: runID, attempt: row.int64(0), worker: nil, kind: "cancel-requested", detail: who)
            return true
        }
        let run = try show(runID)
        guard changed else { throw QueueError(.state, "run \(runID) is \(run.state): nothing to cancel") }
        return run
    }

    // MARK: Workers

    /// Claims the oldest queued run for `worker`: `FOR UPDATE SKIP LOCKED`, so workers on many
    /// hosts never take the same row, and none waits for another's claim.
    /// - Parameters:
    ///   - worker: the worker's name.
    ///   - leaseMilliseconds: how long the claim holds without a heartbeat.
    /// - Returns: the claim, or `nil` when nothing is queued.
    /// - Throws: ``QueueError`` `storage`.
    public func claim(worker: String, leaseMilliseconds: Int64) throws(QueueError) -> RunClaim? {
        try transaction(stage: "claim a run for \(worker)") { tx throws(PostgresFailure) -> RunClaim? in
            let rows = try tx.query(
                """
                UPDATE airlock.queue q SET state = 'running', attempt = q.attempt + 1, worker = $1,
                    lease_until = clock_timestamp() + $2::bigint * interval '1 millisecond', updated_at = clock_timestamp()
                WHERE q.run_id = (
                    SELECT run_id FROM airlock.queue WHERE state = 'queued' ORDER BY submitted_at, run_id
                    FOR UPDATE SKIP LOCKED LIMIT 1)
                RETURNING \(Self.columns.replacingOccurrences(of: "run_id,", with: "q.run_id,"))
                """, [.text(worker), .integer(leaseMilliseconds)], stage: "claim a run for \(worker)")
            guard let row = rows.first else { return nil }
            let run = Self.row(row)
            try Self.note(tx, runID: run.runID, attempt: run.attempt, worker: worker, kind: "claimed", detail: nil)
            return RunClaim(run: run, fence: PostgresFence(runID: run.runID, attempt: run.attempt, worker: worker))
        }
    }

    /// Renews a claim's lease, if it still holds one (a lease that has expired is not renewed:
    /// a rescuer may be taking the run over).
    /// - Throws: ``QueueError`` `storage`.
    public func heartbeat(_ fence: PostgresFence, leaseMilliseconds: Int64) throws(QueueError) -> Heartbeat {
        let rows = try query(
            """
            UPDATE airlock.queue SET lease_until = clock_timestamp() + $4::bigint * interval '1 millisecond',
                updated_at = clock_timestamp()
            WHERE run_id = $1 AND attempt = $2 AND worker = $3 AND state = 'running' AND lease_until > clock_timestamp()
            RETURNING cancel_requested
            """, [.text(fence.runID), .integer(fence.attempt), .text(fence.worker), .integer(leaseMilliseconds)],
            stage: "renew the lease on run \(fence.runID)")
        guard let row = rows.first else { return .lost }
        return .renewed(cancelRequested: row.bool(0))
    }

    /// Ends a claim: `state` (`finished`, `abandoned`) with the run's status and a reason, fenced
    /// by the attempt.
    /// - Returns: `false` when the claim no longer held the run (nothing changed).
    /// - Throws: ``QueueError`` `storage`.
    @discardableResult
    public func end(_ fence: PostgresFence, state: String, status: String, reason: String?) throws(QueueError) -> Bool {
        try transaction(stage: "end run \(fence.runID)") { tx throws(PostgresFailure) -> Bool in
            let rows = try tx.query(
                """
                UPDATE airlock.queue SET state = $4, status = $5, reason = $6, lease_until = NULL,
                    updated_at = clock_timestamp()
                WHERE run_id = $1 AND attempt = $2 AND worker = $3 AND state = 'running' RETURNING 1
                """,
                [
                    .text(fence.runID), .integer(fence.attempt), .text(fence.worker), .text(state), .text(status),
                    reason.map(PostgresValue.text) ?? .null,
                ], stage: "end run \(fence.runID)")
            guard !rows.isEmpty else { return false }
            try Self.note(
                tx, runID: fence.runID, attempt: fence.attempt, worker: fence.worker, kind: state,
                detail: reason ?? status)
            return true
        }
    }

    /// Puts a claim back in the queue (its run never started: nothing was recorded or executed).
    /// - Throws: ``QueueError`` `storage`.
    @discardableResult
    public func requeue(_ fence: PostgresFence, reason: String) throws(QueueError) -> Bool {
        try transaction(stage: "requeue run \(fence.runID)") { tx throws(PostgresFailure) -> Bool in
            let rows = try tx.query(
                """
                UPDATE airlock.queue SET state = 'queued', worker = NULL, lease_until = NULL, updated_at = clock_timestamp()
                WHERE run_id = $1 AND attempt = $2 AND worker = $3 AND state = 'running' RETURNING 1
                """, [.text(fence.runID), .integer(fence.attempt), .text(fence.worker)],
                stage: "requeue run \(fence.runID)")
            guard !rows.isEmpty else { return false }
            try Self.note(
                tx, runID: fence.runID, attempt: fence.attempt, worker: fence.worker, kind: "requeued", detail: reason)
            return true
        }
    }

    /// Takes over, for `rescuer`, up to `limit` runs whose lease has expired: each gets the next
    /// attempt number (which fences out the worker that held it) and a fresh lease.
    /// - Returns: the takeovers, each with the attempt and worker it took the run from.
    /// - Throws: ``QueueError`` `storage`.
    public func takeExpired(rescuer: String, leaseMilliseconds: Int64, limit: Int = 16) throws(QueueError) -> [(
        claim: RunClaim, from: String
    )] {
        try transaction(stage: "take over expired leases") { tx throws(PostgresFailure) in
            let rows = try tx.query(
                """
                WITH expired AS (
                    SELECT run_id, attempt AS old_attempt, worker AS old_worker FROM airlock.queue
                    WHERE state = 'running' AND lease_until < clock_timestamp()
                    ORDER BY lease_until FOR UPDATE SKIP LOCKED LIMIT $3)
                UPDATE airlock.queue q SET attempt = q.attempt + 1, worker = $1,
                    lease_until = clock_timestamp() + $2::bigint * interval '1 millisecond', updated_at = clock_timestamp()
                FROM expired WHERE q.run_id = expired.run_id
                RETURNING \(Self.columns.replacingOccurrences(of: "run_id,", with: "q.run_id,")), expired.old_attempt,
                    expired.old_worker
                """, [.text(rescuer), .integer(leaseMilliseconds), .integer(Int64(limit))],
                stage: "take over expired leases")
            var out: [(claim: RunClaim, from: String)] = []
            for row in rows {
                let run = Self.row(row)
                let from = "attempt \(row.int64(14)) by \(row.text(15) ?? "?")"
                try Self.note(
                    tx, runID: run.runID, attempt: run.attempt, worker: rescuer, kind: "lease-expired", detail: from)
                out.append(
                    (
                        RunClaim(
                            run: run, fence: PostgresFence(runID: run.runID, attempt: run.attempt, worker: rescuer)),
                        from
                    ))
            }
            return out
        }
    }
}
