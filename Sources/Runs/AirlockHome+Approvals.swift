import Approvals
import Foundation
import TracePostgres

extension AirlockHome {
    /// The approval store this home's runs wait on and `airlock approvals` answers, chosen the way
    /// the trace is: `database` when given (`--database`: a `postgres://…` URL, or an approvals
    /// SQLite file); else the site's shared database when `site.yaml` names a postgres trace, so
    /// that a worker's run on one host is answered from any other; else ``approvalsDatabase``.
    /// - Throws: ``RunsError`` `usage` for a malformed `database`, `invalid-input` for a
    ///   `site.yaml` that does not parse or a malformed `trace:` URL in it.
    public func approvals(database: String? = nil) throws(RunsError) -> ApprovalStore {
        let named: String?
        if let database {
            named = database
        } else {
            named = try site().trace
        }
        guard let named else { return approvalStore }
        let location: TraceLocation
        do {
            location = try TraceLocation(named)
        } catch {
            throw RunsError(
                database == nil ? .invalidInput : .usage,
                database == nil ? "site.yaml trace: \(named)" : "--database \(named)", cause: error)
        }
        switch location {
        case .postgres(let url): return ApprovalStore(backend: PostgresApprovalBackend(url: url))
        case .sqlite(let path) where database != nil: return ApprovalStore(databaseURL: URL(fileURLWithPath: path))
        case .sqlite: return approvalStore
        }
    }
}
