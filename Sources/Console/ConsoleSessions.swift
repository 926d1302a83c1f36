import Foundation
import Synchronization

/// Who is signed in: the sessions, each with its principal and CSRF token, opened by the
/// one-time sign-in token (TCP) or by the kernel's word on who connected (the unix socket, see
/// ``ConsolePeers``). Held in memory only: stopping the console signs everyone out.
///
/// A token session's principal is the local account that runs the console, as `airlock
/// approvals` answers as the account that runs it: the token proves the browser is the one the
/// operator gave it to, not who sits at it. Each use of the token replaces it with a new one
/// (printed to the console's output), so a token read over someone's shoulder after use opens
/// nothing. A socket session is its peer's: bound to the uid the kernel named, it opens nothing
/// over a connection from another account.
public final class ConsoleSessions: Sendable {
    /// A signed-in browser.
    public struct Session: Sendable, Hashable {
        /// The cookie value.
        public var id: String
        /// Who it acts as.
        public var principal: String
        /// On the unix socket, the uid the kernel named when it was opened (every request over it
        /// must come from that uid); `nil` for a session the token opened.
        public var uid: UInt32?
        /// The token every state-changing form carries.
        public var csrf: String
        /// When it was opened and last used, seconds since 1970.
        public var created: Double
        public var lastUsed: Double
    }

    /// The session cookie's name.
    public static let cookieName = "airlock_console"
    /// The most sessions open at once; signing in beyond it closes the least recently used.
    public static let maxSessions = 32

    /// The principal every token session (and the console's own account on the socket) acts as.
    public let principal: String
    /// How long a session may go unused, in seconds (default 30 minutes).
    public let idleSeconds: Double
    /// How long a session lasts at most, in seconds (default 12 hours).
    public let maxAgeSeconds: Double
    private let state: Mutex<(token: String, sessions: [String: Session])>
    private let onNewToken: (@Sendable (String) -> Void)?

    /// Creates the sign-in state, with a fresh token when `onNewToken` is given.
    /// - Parameters:
    ///   - principal: who every token session acts as.
    ///   - idleSeconds: the idle bound (default 1800).
    ///   - maxAgeSeconds: the age bound (default 43200).
    ///   - onNewToken: told each new sign-in token (the first one too), to print it; `nil` (the
    ///     unix socket, where the kernel names who connects) for no token: ``signIn(token:now:)``
    ///     then opens nothing.
    public init(
        principal: String, idleSeconds: Double = 1800, maxAgeSeconds: Double = 43_200,
        onNewToken: (@Sendable (String) -> Void)?
    ) {
        self.principal = principal
        self.idleSeconds = idleSeconds
        self.maxAgeSeconds = maxAgeSeconds
        self.onNewToken = onNewToken
        let token = Self.randomToken()
        state = Mutex((token, [:]))
        onNewToken?(token)
    }

    /// 32 random bytes from the system's generator, hex.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte >> 4, radix: 16) + String(byte & 15, radix: 16)
        }.joined()
    }

    /// Whether `a` and `b` are equal, in time that does not depend on where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }

    /// Opens a session when `token` is the current sign-in token, and replaces the token.
    /// - Returns: the new session, or `nil` for a wrong token.
    public func signIn(token: String, now: Double = Date().timeIntervalSince1970) -> Session? {
        guard let onNewToken else { return nil }
        let result: (Session, String)? = state.withLock { state in
            guard Self.same(token, state.token) else { return nil }
            let session = Self.insert(
                principal: principal, uid: nil, now: now, into: &state.sessions, idle: idleSeconds)
            state.token = Self.randomToken()
            return (session, state.token)
        }
        guard let (session, next) = result else { return nil }
        onNewToken(next)
        return session
    }

    /// Opens a session for a peer the kernel named on the unix socket (``ConsolePeers``).
    /// - Returns: the new session, bound to `peer`'s uid.
    public func open(for peer: ConsolePeers.Peer, now: Double = Date().timeIntervalSince1970) -> Session {
        state.withLock { state in
            Self.insert(
                principal: peer.principal, uid: peer.credentials.uid, now: now, into: &state.sessions,
                idle: idleSeconds)
        }
    }

    /// A new session in `sessions`, the idle ones dropped and the least recently used closed
    /// beyond ``maxSessions``.
    private static func insert(
        principal: String, uid: UInt32?, now: Double, into sessions: inout [String: Session], idle: Double
    ) -> Session {
        let session = Session(
            id: randomToken(), principal: principal, uid: uid, csrf: randomToken(), created: now, lastUsed: now)
        sessions = sessions.filter { now - $0.value.lastUsed < idle }
        if sessions.count >= maxSessions, let oldest = sessions.values.min(by: { $0.lastUsed < $1.lastUsed }) {
            sessions[oldest.id] = nil
        }
        sessions[session.id] = session
        return session
    }

    /// The live session with cookie value `id` (its use recorded), or `nil`; on the unix socket
    /// only if `uid`, the connection's peer, is the one it was opened for.
    public func session(_ id: String?, uid: UInt32? = nil, now: Double = Date().timeIntervalSince1970) -> Session? {
        guard let id else { return nil }
        return state.withLock { state in
            guard var session = state.sessions[id], session.uid == uid else { return nil }
            guard now - session.lastUsed < idleSeconds, now - session.created < maxAgeSeconds else {
                state.sessions[id] = nil
                return nil
            }
            session.lastUsed = now
            state.sessions[id] = session
            return session
        }
    }

    /// Closes a session.
    public func signOut(_ id: String) {
        _ = state.withLock { $0.sessions.removeValue(forKey: id) }
    }

    /// Whether `token` is `session`'s CSRF token.
    public static func csrfMatches(_ token: String?, _ session: Session) -> Bool {
        guard let token else { return false }
        return same(token, session.csrf)
    }
}
