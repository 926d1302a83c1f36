import AirlockCore
import Foundation
import RunEvents
import SQLiteSupport

/// The home's approval requests, in SQLite (`AIRLOCK_HOME/approvals.sqlite`): what a run waits
/// on and what `airlock approvals` lists, shows and answers, from any process.
///
/// Every write is one `BEGIN IMMEDIATE` transaction, so that two answers to one request cannot
/// both land: the first one wins and the second sees the request closed. A request whose run is
/// gone (its process ended, or its deadline passed) is marked `expired` the next time any reader
/// looks, so that nothing waits forever and no one approves a call that can no longer run.
public struct ApprovalStore: Sendable {
    /// The store database.
    public let databaseURL: URL
    /// How long to wait for another process's lock, in milliseconds. Default 5000.
    public var busyTimeoutMilliseconds: Int32

    /// The most requests ``requests(includeClosed:now:)`` returns, newest first: what `approvals
    /// list --all` shows of a long history.
    public static let listLimit = 1000

    /// Opens the store at `databaseURL` (created on first use).
    /// - Parameters:
    ///   - databaseURL: the database file.
    ///   - busyTimeoutMilliseconds: how long to wait for another writer (default 5000 ms).
    public init(databaseURL: URL, busyTimeoutMilliseconds: Int32 = 5000) {
        self.databaseURL = databaseURL
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
    }

    typealias Database = SQLiteDatabase<ApprovalsError>

    private static let schema = """
        CREATE TABLE IF NOT EXISTS approval_requests (
            id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            call_id TEXT NOT NULL,
            workflow TEXT NOT NULL,
            principal TEXT NOT NULL,
            tool TEXT NOT NULL,
            arguments TEXT NOT NULL,
            arguments_sha256 TEXT NOT NULL,
            rules TEXT NOT NULL,
            reasons TEXT NOT NULL,
            tags TEXT NOT NULL,
            separate_from_principal INTEGER NOT NULL,
            created_at REAL NOT NULL,
            deadline REAL NOT NULL,
            waiter_pid INTEGER NOT NULL,
            waiter_start TEXT,
            state TEXT NOT NULL CHECK (state IN ('pending', 'granted', 'denied', 'expired')),
            approver TEXT,
            reason TEXT,
            scope TEXT,
            source TEXT,
            answered_at REAL
        );
        CREATE INDEX IF NOT EXISTS approval_requests_by_state ON approval_requests (state, created_at);
        """

    private static let columns = """
        id, run_id, call_id, workflow, principal, tool, arguments, arguments_sha256, rules, reasons, tags,
        separate_from_principal, created_at, deadline, waiter_pid, waiter_start, state, approver, reason, scope,
        source, answered_at
        """

    private func open() throws(ApprovalsError) -> Database {
        let db = try Database(
            path: databaseURL.path,
            configuration: .init(
                busyTimeoutMilliseconds: busyTimeoutMilliseconds, writeAheadLog: true, synchronous: .full),
            mapError: { error in
                let stage = error.phase == .open ? "open" : error.stage
                return ApprovalsError(
                    .store, "approvals (\(error.path)): \(stage): \(error.message)")
            })
        try db.execute(Self.schema, stage: "create the approvals table")
        return db
    }

    /// Writes a new pending request.
    /// - Throws: ``ApprovalsError`` `invalid-request` when the id is taken, `store`.
    public func insert(_ record: ApprovalRecord) throws(ApprovalsError) {
        let db = try open()
        try db.transaction(stage: "write request \(record.id)") { () throws(ApprovalsError) in
            guard try db.rows("SELECT 1 FROM approval_requests WHERE id = ?", [.text(record.id)]).isEmpty else {
                throw ApprovalsError(.invalidRequest, "approval request \(record.id) already exists")
            }
            try db.query(
                "INSERT INTO approval_requests (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                Self.values(record), stage: "insert request \(record.id)")
        }
    }

    /// One request, after closing it if its run is gone.
    /// - Parameters:
    ///   - id: the request's id.
    ///   - now: the time, in seconds since 1970 (default now).
    /// - Throws: ``ApprovalsError`` `not-found`, `store`.
    public func request(_ id: String, now: Double = Date().timeIntervalSince1970) throws(ApprovalsError)
        -> ApprovalRecord
    {
        let db = try open()
        return try db.transaction(stage: "read request \(id)") { () throws(ApprovalsError) -> ApprovalRecord in
            try sweep(db, now: now)
            return try Self.find(id, db)
        }
    }

    /// The pending requests (or, with `includeClosed`, all of them), newest first, after closing
    /// those whose run is gone; at most ``listLimit``.
    /// - Throws: ``ApprovalsError`` `store`.
    public func requests(includeClosed: Bool, now: Double = Date().timeIntervalSince1970) throws(ApprovalsError)
        -> [ApprovalRecord]
    {
        let db = try open()
        return try db.transaction(stage: "list requests") { () throws(ApprovalsError) -> [ApprovalRecord] in
            try sweep(db, now: now)
            let filter = includeClosed ? "" : "WHERE state = 'pending'"
            var records: [ApprovalRecord] = []
            try db.query(
                "SELECT \(Self.columns) FROM approval_requests \(filter) ORDER BY created_at DESC, id LIMIT ?",
                [.integer(Int64(Self.listLimit))]
            ) { statement throws(ApprovalsError) in
                records.append(try Self.record(statement.values()))
            }
            return records
        }
    }

    /// What answering a request did.
    public enum Outcome: Sendable, Hashable {
        /// This answer closed the request; the record as it now stands.
        case answered(ApprovalRecord)
        /// The request was already closed (answered elsewhere, or expired); nothing changed.
        case closed(ApprovalRecord)
    }

    /// Closes a pending request: grants, denies or expires it with `answer`. A request already
    /// closed is left as it is (the first answer wins).
    /// - Parameters:
    ///   - id: the request's id.
    ///   - state: `granted`, `denied` or `expired`.
    ///   - answer: who, why, which scope, where from.
    ///   - argumentsSHA256: the digest of the call the approver was shown, when the answer is bound
    ///     to it (the console's forms): a request whose digest differs is not answered.
    ///   - now: the time, in seconds since 1970 (default now).
    /// - Returns: ``Outcome/answered(_:)``, or ``Outcome/closed(_:)`` with the earlier answer.
    /// - Throws: ``ApprovalsError`` `not-found`; `arguments-changed` when `argumentsSHA256` is not
    ///   the request's; `self-approval` when a grant comes from the run's principal and the policy
    ///   requires someone else (the request stays pending); `invalid-request` for a `pending`
    ///   state; `store`.
    public func answer(
        _ id: String, state: ApprovalRecord.State, _ answer: ApprovalRecord.Answer, argumentsSHA256: String? = nil,
        now: Double = Date().timeIntervalSince1970
    ) throws(ApprovalsError) -> Outcome {
        guard state != .pending else { throw ApprovalsError(.invalidRequest, "an answer must close the request") }
        let db = try open()
        return try db.transaction(stage: "answer request \(id)") { () throws(ApprovalsError) -> Outcome in
            try sweep(db, now: now)
            var record = try Self.find(id, db)
            if let argumentsSHA256, argumentsSHA256 != record.argumentsSHA256 {
                throw ApprovalsError(
                    .argumentsChanged,
                    "approval request \(id) is for arguments with sha256 \(record.argumentsSHA256), not the \(argumentsSHA256) this answer was given for; nothing changed"
                )
            }
            guard record.state == .pending else { return .closed(record) }
            if state == .granted, record.separateFromPrincipal, answer.approver == record.principal {
                throw ApprovalsError(
                    .selfApproval,
                    "approval request \(id): the policy requires someone other than the run's principal (\(record.principal)) to approve it; it stays pending for another person"
                )
            }
            try db.query(
                "UPDATE approval_requests SET state = ?, approver = ?, reason = ?, scope = ?, source = ?, answered_at = ? WHERE id = ? AND state = 'pending'",
                [
                    .text(state.rawValue), .text(answer.approver), .text(answer.reason),
                    answer.scope.map { .text($0.rawValue) } ?? .null, answer.source.map { .text($0.rawValue) } ?? .null,
                    .real(answer.at), .text(id),
                ], stage: "answer request \(id)")
            record.state = state
            record.answer = answer
            return .answered(record)
        }
    }

    /// Marks every pending request whose deadline passed, or whose waiting process is gone, as
    /// expired. Runs inside the caller's transaction.
    private func sweep(_ db: Database, now: Double) throws(ApprovalsError) {
        let pending = try db.rows(
            "SELECT id, created_at, deadline, waiter_pid, waiter_start FROM approval_requests WHERE state = 'pending'",
            stage: "find pending requests")
        for row in pending {
            guard case .text(let id) = row[0], case .real(let created) = row[1], case .real(let deadline) = row[2]
            else { continue }
            let waiter = ApprovalWaiter(pid: Int32(clamping: row[3].integer ?? 0), startTicks: row[4].text)
            let answer: ApprovalRecord.Answer
            if deadline <= now {
                answer = ApprovalRecord.Answer(
                    approver: "timeout", reason: Self.timeoutReason(deadline - created), scope: nil, source: .timeout,
                    at: deadline)
            } else if !waiter.isRunning {
                answer = ApprovalRecord.Answer(
                    approver: "airlock",
                    reason: "the run's process (pid \(waiter.pid)) ended before anyone answered", scope: nil,
                    source: nil, at: now)
            } else {
                continue
            }
            try db.query(
                "UPDATE approval_requests SET state = 'expired', approver = ?, reason = ?, source = ?, answered_at = ? WHERE id = ? AND state = 'pending'",
                [
                    .text(answer.approver), .text(answer.reason), answer.source.map { .text($0.rawValue) } ?? .null,
                    .real(answer.at), .text(id),
                ], stage: "expire request \(id)")
        }
    }

    /// The reason a request that no one answered in time is closed with (the seconds to the
    /// millisecond: a deadline less its creation time is the timeout give or take a rounding).
    public static func timeoutReason(_ seconds: Double) -> String {
        "timed out after \(JSONValue.number((seconds * 1000).rounded() / 1000).canonicalString) s"
    }

    private static func find(_ id: String, _ db: Database) throws(ApprovalsError) -> ApprovalRecord {
        guard let row = try db.rows("SELECT \(columns) FROM approval_requests WHERE id = ?", [.text(id)]).first else {
            throw ApprovalsError(
                .notFound, "no approval request \(id) (airlock approvals list --all shows every request)")
        }
        return try record(row)
    }

    private static func values(_ r: ApprovalRecord) -> [SQLiteValue] {
        func list(_ items: [String]) -> SQLiteValue {
            .text(JSONValue.array(items.map(JSONValue.string)).canonicalString)
        }
        return [
            .text(r.id), .text(r.runID), .text(r.callID), .text(r.workflow), .text(r.principal), .text(r.tool),
            .text(r.arguments), .text(r.argumentsSHA256), list(r.rules), list(r.reasons), list(r.tags),
            .integer(r.separateFromPrincipal ? 1 : 0), .real(r.createdAt), .real(r.deadline),
            .integer(Int64(r.waiter.pid)), r.waiter.startTicks.map(SQLiteValue.text) ?? .null, .text(r.state.rawValue),
            r.answer.map { .text($0.approver) } ?? .null, r.answer.map { .text($0.reason) } ?? .null,
            r.answer?.scope.map { .text($0.rawValue) } ?? .null, r.answer?.source.map { .text($0.rawValue) } ?? .null,
            r.answer.map { .real($0.at) } ?? .null,
        ]
    }

    /// Reads a row back; a value this Airlock did not write is a `store` error naming the column.
    private static func record(_ row: [SQLiteValue]) throws(ApprovalsError) -> ApprovalRecord {
        func text(_ index: Int, _ name: String) throws(ApprovalsError) -> String {
            guard case .text(let value) = row[index] else { throw corrupt(row, name) }
            return value
        }
        func real(_ index: Int, _ name: String) throws(ApprovalsError) -> Double {
            switch row[index] {
            case .real(let value): return value
            case .integer(let value): return Double(value)
            default: throw corrupt(row, name)
            }
        }
        func list(_ index: Int, _ name: String) throws(ApprovalsError) -> [String] {
            guard let items = (try? JSONParser().parse(try text(index, name)))?.arrayValue else {
                throw corrupt(row, name)
            }
            return items.compactMap(\.stringValue)
        }
        guard let state = ApprovalRecord.State(rawValue: try text(16, "state")) else { throw corrupt(row, "state") }
        var answer: ApprovalRecord.Answer?
        if case .text(let approver) = row[17] {
            answer = ApprovalRecord.Answer(
                approver: approver, reason: row[18].text ?? "",
                scope: row[19].text.flatMap(ApprovalAnswered.Scope.init(rawValue:)),
                source: row[20].text.flatMap(ApprovalAnswered.Source.init(rawValue:)),
                at: try real(21, "answered_at"))
        }
        return ApprovalRecord(
            id: try text(0, "id"), runID: try text(1, "run_id"), callID: try text(2, "call_id"),
            workflow: try text(3, "workflow"), principal: try text(4, "principal"), tool: try text(5, "tool"),
            arguments: try text(6, "arguments"), argumentsSHA256: try text(7, "arguments_sha256"),
            rules: try list(8, "rules"), reasons: try list(9, "reasons"), tags: try list(10, "tags"),
            separateFromPrincipal: row[11].integer == 1, createdAt: try real(12, "created_at"),
            deadline: try real(13, "deadline"),
            waiter: ApprovalWaiter(pid: Int32(clamping: row[14].integer ?? 0), startTicks: row[15].text),
            state: state, answer: answer)
    }

    private static func corrupt(_ row: [SQLiteValue], _ column: String) -> ApprovalsError {
        ApprovalsError(
            .store,
            "approval request \(row.first?.text ?? "?"): column \(column) holds a value this Airlock did not write")
    }
}
