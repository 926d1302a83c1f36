/// Where an ``ApprovalStore`` keeps its requests: the rows only. What the rows mean (expiry, the
/// binding to the argument digest, separation of duties, the first answer winning) is the
/// store's, computed once for every backend.
///
/// Two backends: ``SQLiteApprovalBackend`` (the home's `approvals.sqlite`, the embedded default)
/// and `TracePostgres.PostgresApprovalBackend` (the site's shared database, so that an approver on
/// any host answers a worker's run). A backend must make ``close(_:state:answer:argumentsSHA256:)`` conditional on
/// the request still being pending, atomically, so that two answers never both land.
public protocol ApprovalBackend: Sendable {
    /// Where the requests live, for messages (a path, or a URL without its password).
    var location: String { get }

    /// Writes a new pending request.
    /// - Throws: ``ApprovalsError`` `invalid-request` when the id is taken, `store`.
    func insert(_ record: ApprovalRecord) throws(ApprovalsError)

    /// The request with `id`, or `nil`.
    /// - Throws: ``ApprovalsError`` `store`.
    func find(_ id: String) throws(ApprovalsError) -> ApprovalRecord?

    /// The requests (only the pending ones unless `includeClosed`), newest first, at most `limit`.
    /// - Throws: ``ApprovalsError`` `store`.
    func list(includeClosed: Bool, limit: Int) throws(ApprovalsError) -> [ApprovalRecord]

    /// Closes request `id` with `state` and `answer` if it is still pending and is for the call
    /// whose digest is `argumentsSHA256`.
    /// - Returns: `true` when this call closed it, `false` when it was closed already.
    /// - Throws: ``ApprovalsError`` `not-permitted` when the database refuses this login the
    ///   answer, `store`.
    func close(
        _ id: String, state: ApprovalRecord.State, answer: ApprovalRecord.Answer, argumentsSHA256: String
    ) throws(ApprovalsError) -> Bool
}
