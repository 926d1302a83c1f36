import Approvals
import Foundation
import RunEvents
import Synchronization

/// The approval requests on the site's shared PostgreSQL database (`airlock.approval_requests`,
/// `airlock.approval_answers`; docs/approvals.md), so that a worker's run on one host waits on a
/// request that an approver on any other host answers.
///
/// A request is a row the workers' role INSERTs; an answer is a row of its own in
/// `approval_answers` keyed by the request's id, so the first answer wins by the primary key and
/// nothing is ever updated. The answer's foreign key `(request_id, arguments_sha256)` binds it to
/// the exact call. Who may write which answer is the database's to enforce (``PostgresSchema``):
/// the workers' role may only record that a request expired, the approvers' role may grant or
/// deny, and a grant by the run's principal of a request that separates duties is refused.
///
/// The connection is opened at the first use, so that a run that never asks opens none.
public final class PostgresApprovalBackend: ApprovalBackend {
    /// Where the requests live.
    public let url: PostgresURL
    private let session: Mutex<PostgresSession?>

    public var location: String { url.description }

    /// A backend on the database at `url` (connected at the first call).
    public init(url: PostgresURL) {
        self.url = url
        session = Mutex(nil)
    }

    /// A backend over an open session.
    public init(session: PostgresSession) {
        url = session.url
        self.session = Mutex<PostgresSession?>(session)
    }

    private static let columns = """
        r.id, r.run_id, r.call_id, r.workflow, r.principal, r.tool, r.arguments, r.arguments_sha256, r.rules,
        r.reasons, r.tags, r.separate_from_principal, r.created_at, r.deadline, r.waiter_pid, r.waiter_start,
        r.waiter_host, a.state, a.approver, a.reason, a.scope, a.source, a.answered_at
        """

    private static let from =
        "airlock.approval_requests r LEFT JOIN airlock.approval_answers a ON a.request_id = r.id"

    /// Runs one statement; a failure is mapped by ``error(_:url:)`` after `special` had its say.
    @discardableResult
    private func query(
        _ sql: String, _ values: [PostgresValue] = [], stage: String,
        special: (PostgresFailure) -> ApprovalsError? = { _ in nil }
    ) throws(ApprovalsError) -> [PostgresRecord] {
        let result = session.withLock { (open: inout PostgresSession?) -> Result<[PostgresRecord], PostgresFailure> in
            do throws(PostgresFailure) {
                let current: PostgresSession
                if let existing = open {
                    current = existing
                } else {
                    current = try PostgresSession(url: url)
                    open = current
                }
                return .success(try current.query(sql, values, stage: stage))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let rows): return rows
        case .failure(let failure): throw special(failure) ?? Self.error(failure, url: url)
        }
    }

    /// The store's error for a database failure: `not-permitted` for a refusal of this login
    /// (a grant or a row-level policy), `invalid-request` for a request id taken or an answer for
    /// other arguments, else `store`.
    static func error(_ failure: PostgresFailure, url: PostgresURL) -> ApprovalsError {
        let state = failure.sqlState.map { " (SQLSTATE \($0))" } ?? ""
        let message = "approvals (\(url)): \(failure.stage): \(failure.message)\(state)"
        switch failure.sqlState {
        case "42501": return ApprovalsError(.notPermitted, message + ": this role may not write that")
        case "42P01", "3F000":
            return ApprovalsError(
                .store, message + " (run `airlock db init --database URL` as the database's owner)")
        default: return ApprovalsError(.store, message)
        }
    }

    public func insert(_ record: ApprovalRecord) throws(ApprovalsError) {
        let r = record
        try query(
            """
            INSERT INTO airlock.approval_requests(id, run_id, call_id, workflow, principal, tool, arguments,
                arguments_sha256, rules, reasons, tags, separate_from_principal, created_at, deadline, waiter_pid,
                waiter_start, waiter_host)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
            """,
            [
                .text(r.id), .text(r.runID), .text(r.callID), .text(r.workflow), .text(r.principal),
                .text(r.tool), .text(r.arguments), .text(r.argumentsSHA256), .text(ApprovalRecord.listText(r.rules)),
                .text(ApprovalRecord.listText(r.reasons)), .text(ApprovalRecord.listText(r.tags)),
                .bool(r.separateFromPrincipal), .double(r.createdAt), .double(r.deadline),
                .integer(Int64(r.waiter.pid)), r.waiter.startTicks.map(PostgresValue.text) ?? .null,
                r.waiter.host.map(PostgresValue.text) ?? .null,
            ], stage: "insert request \(r.id)"
        ) { failure in
            failure.isUniqueViolation ? ApprovalsError(.invalidRequest, "approval request \(r.id) already exists") : nil
        }
    }

    public func find(_ id: String) throws(ApprovalsError) -> ApprovalRecord? {
        let rows = try query(
            "SELECT \(Self.columns) FROM \(Self.from) WHERE r.id = $1", [.text(id)], stage: "read request \(id)")
        return try rows.first.map { row throws(ApprovalsError) in try Self.record(row) }
    }

    public func list(includeClosed: Bool, limit: Int) throws(ApprovalsError) -> [ApprovalRecord] {
        let filter = includeClosed ? "" : "WHERE a.request_id IS NULL"
        var records: [ApprovalRecord] = []
        for row in try query(
            "SELECT \(Self.columns) FROM \(Self.from) \(filter) ORDER BY r.created_at DESC, r.id LIMIT $1",
            [.integer(Int64(limit))], stage: "list requests")
        {
            records.append(try Self.record(row))
        }
        return records
    }

    public func close(
        _ id: String, state: ApprovalRecord.State, answer: ApprovalRecord.Answer, argumentsSHA256: String
    ) throws(ApprovalsError) -> Bool {
        let rows = try query(
            """
            INSERT INTO airlock.approval_answers(request_id, arguments_sha256, state, approver, reason, scope,
                source, answered_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (request_id) DO NOTHING RETURNING request_id
            """,
            [
                .text(id), .text(argumentsSHA256), .text(state.rawValue), .text(answer.approver),
                .text(answer.reason), answer.scope.map { .text($0.rawValue) } ?? .null,
                answer.source.map { .text($0.rawValue) } ?? .null, .double(answer.at),
            ], stage: "answer request \(id)"
        ) { failure in
            // The foreign key (request_id, arguments_sha256): no request for that call.
            failure.sqlState == "23503"
                ? ApprovalsError(
                    .argumentsChanged,
                    "approval request \(id) is not for arguments with sha256 \(argumentsSHA256); nothing changed")
                : nil
        }
        return !rows.isEmpty
    }

    /// Reads a joined row back; a value this Airlock did not write is a `store` error.
    static func record(_ row: PostgresRecord) throws(ApprovalsError) -> ApprovalRecord {
        let id = row.text(0) ?? "?"
        func text(_ index: Int, _ name: String) throws(ApprovalsError) -> String {
            guard let value = row.text(index) else { throw ApprovalRecord.corrupt(id, name) }
            return value
        }
        var state = ApprovalRecord.State.pending
        var answer: ApprovalRecord.Answer?
        if let stored = row.text(17) {
            state = try ApprovalRecord.state(stored, id)
            answer = ApprovalRecord.Answer(
                approver: try text(18, "approver"), reason: row.text(19) ?? "",
                scope: row.text(20).flatMap(ApprovalAnswered.Scope.init(rawValue:)),
                source: row.text(21).flatMap(ApprovalAnswered.Source.init(rawValue:)), at: row.double(22))
        }
        return try ApprovalRecord.reading(
            text: text, separateFromPrincipal: row.bool(11), createdAt: row.double(12), deadline: row.double(13),
            waiter: ApprovalWaiter(pid: Int32(clamping: row.int64(14)), startTicks: row.text(15), host: row.text(16)),
            state: state, answer: answer)
    }
}
