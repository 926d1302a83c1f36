import Approvals
import Trace

/// What `airlock console` serves and as whom.
public struct ConsoleConfiguration: Sendable {
    /// Where it listens.
    public var address: ConsoleAddress
    /// The trace database the runs are read from and verdicts written to.
    public var traceDatabase: String
    /// The home's approval requests.
    public var approvals: ApprovalStore
    /// The keys a run's checkpoints may be signed by.
    public var trustedKeys: [TracePublicKey]
    /// The key verdicts are signed with.
    public var signingKey: TraceSigningKey
    /// The audit log's path.
    public var auditLog: String
    /// Runs per page of the runs list (default 100): each is verified as it is shown.
    public var pageSize: Int
    /// The largest request body read, in bytes (default 64 KiB): forms are small.
    public var maxBodyBytes: Int
    /// On the unix socket, the local accounts besides the console's own it admits, each acting as
    /// its own name (`site.yaml` `console_peers:`; default none). See ``ConsolePeers``.
    public var admittedPeers: [String]

    /// Creates a configuration.
    public init(
        address: ConsoleAddress, traceDatabase: String, approvals: ApprovalStore, trustedKeys: [TracePublicKey],
        signingKey: TraceSigningKey, auditLog: String, pageSize: Int = 100, maxBodyBytes: Int = 64 * 1024,
        admittedPeers: [String] = []
    ) {
        self.admittedPeers = admittedPeers
        self.address = address
        self.traceDatabase = traceDatabase
        self.approvals = approvals
        self.trustedKeys = trustedKeys
        self.signingKey = signingKey
        self.auditLog = auditLog
        self.pageSize = pageSize
        self.maxBodyBytes = maxBodyBytes
    }
}
