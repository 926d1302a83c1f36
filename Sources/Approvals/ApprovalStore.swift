import AirlockCore
import Foundation
import RunEvents

/// The approval requests runs wait on and `airlock approvals` lists, shows and answers, from any
/// process: over the home's SQLite file (``SQLiteApprovalBackend``, the default) or the site's
/// shared PostgreSQL database (`TracePostgres.PostgresApprovalBackend`), the same rules for both.
///
/// A close is conditional on the request still being pending (the backend's atomic step), so that
/// two answers to one request cannot both land: the first one wins and the second sees the
/// request closed. A request whose run is gone (its process ended, or its deadline passed) is
/// marked `expired` the next time any reader looks, so that nothing waits forever and no one
/// approves a call that can no longer run.
public struct ApprovalStore: Sendable {
    /// Where the rows live.
    public let backend: any ApprovalBackend

    /// The most requests ``requests(includeClosed:now:)`` returns, newest first: what `approvals
    /// list --all` shows of a long history.
    public static let listLimit = 1000

    /// A store over `backend`.
    public init(backend: any ApprovalBackend) { self.backend = backend }

    /// The store in the SQLite file at `databaseURL` (created on first use).
    /// - Parameters:
    ///   - databaseURL: the database file.
    ///   - busyTimeoutMilliseconds: how long to wait for another writer (default 5000 ms).
    public init(databaseURL: URL, busyTimeoutMilliseconds: Int32 = 5000) {
        self.init(
            backend: SQLiteApprovalBackend(databaseURL: databaseURL, busyTimeoutMilliseconds: busyTimeoutMilliseconds))
    }

    /// Writes a new pending request.
    /// - Throws: ``ApprovalsError`` `invalid-request` when the id is taken, `store`.
    public func insert(_ record: ApprovalRecord) throws(ApprovalsError) {
        try backend.insert(record)
    }

    /// One request, after closing it if its run is gone.
    /// - Parameters:
    ///   - id: the request's id.
    ///   - now: the time, in seconds since 1970 (default now).
    /// - Throws: ``ApprovalsError`` `not-found`, `store`.
    public func request(_ id: String, now: Double = Date().timeIntervalSince1970) throws(ApprovalsError)
        -> ApprovalRecord
    {
        let record = try find(id)
        guard record.state == .pending, try sweep(record, now: now) else { return record }
        return try find(id)
    }

    /// The pending requests (or, with `includeClosed`, all of them), newest first, after closing
    /// those whose run is gone; at most ``listLimit``.
    /// - Throws: ``ApprovalsError`` `store`.
    public func requests(includeClosed: Bool, now: Double = Date().timeIntervalSince1970) throws(ApprovalsError)
        -> [ApprovalRecord]
    {
        let pending = try backend.list(includeClosed: false, limit: Self.listLimit)
        var swept = false
        for record in pending {
            swept = try sweep(record, now: now) || swept
        }
        if !swept && !includeClosed { return pending }
        return try backend.list(includeClosed: includeClosed, limit: Self.listLimit)
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
        var record = try request(id, now: now)
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
        // What the request binds (call, digest, principal, separation) never changes once
        // written, so the checks above hold; only the close must be atomic, and it is.
        guard try backend.close(id, state: state, answer: answer, argumentsSHA256: record.argumentsSHA256) else {
            return .closed(try find(id))
        }
        record.state = state
        record.answer = answer
        return .answered(record)
    }

    /// Marks a pending request whose deadline passed, or whose waiting process is gone, as
    /// expired. Returns whether it did (not when this login may not write answers).
    private func sweep(_ record: ApprovalRecord, now: Double) throws(ApprovalsError) -> Bool {
        let answer: ApprovalRecord.Answer
        if record.deadline <= now {
            answer = ApprovalRecord.Answer(
                approver: "timeout", reason: Self.timeoutReason(record.deadline - record.createdAt), scope: nil,
                source: .timeout, at: record.deadline)
        } else if !record.waiter.isRunning {
            answer = ApprovalRecord.Answer(
                approver: "airlock",
                reason: "the run's process (pid \(record.waiter.pid)) ended before anyone answered", scope: nil,
                source: nil, at: now)
        } else {
            return false
        }
        do {
            return try backend.close(
                record.id, state: .expired, answer: answer, argumentsSHA256: record.argumentsSHA256)
        } catch  where error.code == .notPermitted {
            // A reader that may not write (the auditors' role) still reads; the request is
            // closed by the next reader that may.
            return false
        }
    }

    /// The reason a request that no one answered in time is closed with (the seconds to the
    /// millisecond: a deadline less its creation time is the timeout give or take a rounding).
    public static func timeoutReason(_ seconds: Double) -> String {
        "timed out after \(JSONValue.number((seconds * 1000).rounded() / 1000).canonicalString) s"
    }

    private func find(_ id: String) throws(ApprovalsError) -> ApprovalRecord {
        guard let record = try backend.find(id) else {
            throw ApprovalsError(
                .notFound, "no approval request \(id) (airlock approvals list --all shows every request)")
        }
        return record
    }
}
