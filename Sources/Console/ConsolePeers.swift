import AirlockCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Who may use the console over its unix socket, and as whom. The kernel names the account at the
/// other end of every connection (`SO_PEERCRED`: the credentials the connecting process had when
/// it called `connect`, which it cannot choose); the console admits its own account (acting as
/// the console's principal, as `airlock approvals` answers as `USER`) and the accounts the site
/// lists in `site.yaml` `console_peers:` (each acting as its name in the password database), and
/// refuses every other, before any page is read. Closed by default: the list is empty, so only
/// the console's own account gets in — and its socket is then mode 0600 besides.
public struct ConsolePeers: Sendable {
    /// A connection's credentials as the kernel reports them: `struct ucred`'s layout (`pid_t`,
    /// `uid_t`, `gid_t`), which Glibc's Swift module does not export.
    public struct Credentials: Sendable, Hashable {
        /// The connecting process, when it connected.
        public var pid: Int32
        /// Its effective user and group ids.
        public var uid: UInt32
        public var gid: UInt32

        /// Credentials as given.
        public init(pid: Int32, uid: UInt32, gid: UInt32) {
            self.pid = pid
            self.uid = uid
            self.gid = gid
        }
    }

    /// An admitted connection: who the kernel says it is and whom it acts as.
    public struct Peer: Sendable, Hashable {
        /// The kernel's credentials.
        public var credentials: Credentials
        /// The principal its sessions act as.
        public var principal: String
    }

    /// Why a connection is refused, in words for the page and the audit log.
    public struct Refusal: Error, Sendable, Hashable {
        /// The kernel's credentials.
        public var credentials: Credentials
        /// The account's name, if it has one.
        public var name: String?
        /// What the refused peer is told.
        public var text: String
    }

    /// The console's own effective uid.
    public var ownUID: UInt32
    /// Whom a connection from ``ownUID`` acts as.
    public var ownPrincipal: String
    /// The other accounts admitted (`console_peers:`).
    public var admitted: [String]

    /// The admission rule.
    /// - Parameters:
    ///   - ownPrincipal: whom the console's own account acts as.
    ///   - admitted: the other account names admitted.
    ///   - ownUID: the console's effective uid (default: this process's).
    public init(ownPrincipal: String, admitted: [String], ownUID: UInt32 = geteuid()) {
        self.ownPrincipal = ownPrincipal
        self.admitted = admitted
        self.ownUID = ownUID
    }

    /// Whom a connection with `credentials` acts as, or why it is refused.
    public func admit(_ credentials: Credentials) -> Result<Peer, Refusal> {
        if credentials.uid == ownUID { return .success(Peer(credentials: credentials, principal: ownPrincipal)) }
        let name = Posix.accountName(uid: credentials.uid)
        if let name, admitted.contains(name) { return .success(Peer(credentials: credentials, principal: name)) }
        let who =
            name.map { "account \($0) (uid \(credentials.uid))" }
            ?? "uid \(credentials.uid), which has no account name,"
        let listed = admitted.isEmpty ? "it lists none" : "it lists " + admitted.joined(separator: ", ")
        return .failure(
            Refusal(
                credentials: credentials, name: name,
                text:
                    "This console admits \(who) on its socket only if site.yaml console_peers: lists it (\(listed)); ask its operator."
            ))
    }

    /// The kernel's credentials of the process at the other end of `channel`, a unix socket
    /// connection (`getsockopt(SOL_SOCKET, SO_PEERCRED)`, through NIO's socket options).
    /// - Throws: when the channel is not a socket or the option cannot be read.
    static func credentials(of channel: any Channel) async throws -> Credentials {
        guard let provider = channel as? any SocketOptionProvider else {
            throw ConsoleError(.state, "the connection is not a socket: its peer cannot be named")
        }
        return try await read(provider).get()
    }

    // Not public, not inlinable: NIO's advice for its unsafe socket option calls.
    private static func read(_ provider: any SocketOptionProvider) -> EventLoopFuture<Credentials> {
        provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
    }
}
