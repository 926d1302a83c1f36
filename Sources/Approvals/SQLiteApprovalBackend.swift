import AirlockCore
import Foundation
import RunEvents
import SQLiteSupport

/// The home's approval requests in SQLite (`AIRLOCK_HOME/approvals.sqlite`), the embedded
/// default: one table, every write one `BEGIN IMMEDIATE` transaction, so that two answers to one
/// request cannot both land.
public struct SQLiteApprovalBackend: ApprovalBackend {
    /// The store database.
    public let databaseURL: URL
    /// How long to wait for another process's lock, in milliseconds.
    public var busyTimeoutMilliseconds: Int32

    public var location: String { databaseURL.path }

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

    public func find(_ id: String) throws(ApprovalsError) -> ApprovalRecord? {
        let db = try open()
        return try db.rows("SELECT \(Self.columns) FROM approval_requests WHERE id = ?", [.text(id)]).first.map {
            row throws(ApprovalsError) in try Self.record(row)
        }
    }

    public func list(includeClosed: Bool, limit: Int) throws(ApprovalsError) -> [ApprovalRecord] {
        let db = try open()
        let filter = includeClosed ? "" : "WHERE state = 'pending'"
        var records: [ApprovalRecord] = []
        try db.query(
            "SELECT \(Self.columns) FROM approval_requests \(filter) ORDER BY created_at DESC, id LIMIT ?",
            [.integer(Int64(limit))]
        ) { statement throws(ApprovalsError) in
            records.append(try Self.record(statement.values()))
        }
        return records
    }

    public func close(
        _ id: String, state: ApprovalRecord.State, answer: ApprovalRecord.Answer, argumentsSHA256: String
    ) throws(ApprovalsError) -> Bool {
        let db = try open()
        return try db.transaction(stage: "answer request \(id)") { () throws(ApprovalsError) -> Bool in
            let pending = try db.rows(
                "SELECT 1 FROM approval_requests WHERE id = ? AND state = 'pending' AND arguments_sha256 = ?",
                [.text(id), .text(argumentsSHA256)])
            guard !pending.isEmpty else { return false }
            try db.query(
                "UPDATE approval_requests SET state = ?, approver = ?, reason = ?, scope = ?, source = ?, answered_at = ? WHERE id = ? AND state = 'pending'",
                [
                    .text(state.rawValue), .text(answer.approver), .text(answer.reason),
                    answer.scope.map { .text($0.rawValue) } ?? .null, answer.source.map { .text($0.rawValue) } ?? .null,
                    .real(answer.at), .text(id),
                ], stage: "answer request \(id)")
            return true
        }
    }

    private static func values(_ r: ApprovalRecord) -> [SQLiteValue] {
        [
            .text(r.id), .text(r.runID), .text(r.callID), .text(r.workflow), .text(r.principal), .text(r.tool),
            .text(r.arguments), .text(r.argumentsSHA256), .text(ApprovalRecord.listText(r.rules)),
            .text(ApprovalRecord.listText(r.reasons)), .text(ApprovalRecord.listText(r.tags)),
            .integer(r.separateFromPrincipal ? 1 : 0), .real(r.createdAt), .real(r.deadline),
            .integer(Int64(r.waiter.pid)), r.waiter.startTicks.map(SQLiteValue.text) ?? .null, .text(r.state.rawValue),
            r.answer.map { .text($0.approver) } ?? .null, r.answer.map { .text($0.reason) } ?? .null,
            r.answer?.scope.map { .text($0.rawValue) } ?? .null, r.answer?.source.map { .text($0.rawValue) } ?? .null,
            r.answer.map { .real($0.at) } ?? .null,
        ]
    }

    /// Reads a row back; a value this Airlock did not write is a `store` error naming the column.
    private static func record(_ row: [SQLiteValue]) throws(ApprovalsError) -> ApprovalRecord {
        let id = row.first?.text ?? "?"
        func text(_ index: Int, _ name: String) throws(ApprovalsError) -> String {
            guard case .text(let value) = row[index] else { throw ApprovalRecord.corrupt(id, name) }
            return value
        }
        func real(_ index: Int, _ name: String) throws(ApprovalsError) -> Double {
            switch row[index] {
            case .real(let value): return value
            case .integer(let value): return Double(value)
            default: throw ApprovalRecord.corrupt(id, name)
            }
        }
        var answer: ApprovalRecord.Answer?
        if case .text(let approver) = row[17] {
            answer = ApprovalRecord.Answer(
                approver: approver, reason: row[18].text ?? "",
                scope: row[19].text.flatMap(ApprovalAnswered.Scope.init(rawValue:)),
                source: row[20].text.flatMap(ApprovalAnswered.Source.init(rawValue:)),
                at: try real(21, "answered_at"))
        }
        return try ApprovalRecord.reading(
            text: text, separateFromPrincipal: row[11].integer == 1, createdAt: try real(12, "created_at"),
            deadline: try real(13, "deadline"),
            waiter: ApprovalWaiter(pid: Int32(clamping: row[14].integer ?? 0), startTicks: row[15].text),
            state: try ApprovalRecord.state(try text(16, "state"), id), answer: answer)
    }
}
