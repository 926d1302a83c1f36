import Foundation
import Synchronization

/// Who is signed in: the one-time sign-in token, and the sessions it opened, each with its CSRF
/// token. Held in memory only: stopping the console signs everyone out.
///
/// Every session's principal is the local account that runs the console, as `airlock approvals`
/// answers as the account that runs it: the token proves the browser is the one the operator
/// gave it to, not who sits at it. Each use of the token replaces it with a new one (printed to
/// the console's output), so a token read over someone's shoulder after use opens nothing.
public final class ConsoleSessions: Sendable {
    /// A signed-in browser.
    public struct Session: Sendable, Hashable {
        /// The cookie value.
        public var id: String
        /// Who it acts as.
        public var principal: String
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

    /// The principal every session acts as.
    public let principal: String
    /// How long a session may go unused, in seconds (default 30 minutes).
    public let idleSeconds: Double
    /// How long a session lasts at most, in seconds (default 12 hours).
    public let maxAgeSeconds: Double
    private let state: Mutex<(token: String, sessions: [String: Session])>
    private let onNewToken: @Sendable (String) -> Void

    /// Creates the sign-in state with a fresh token.
    /// - Parameters:
    ///   - principal: who every session acts as.
    ///   - idleSeconds: the idle bound (default 1800).
    ///   - maxAgeSeconds: the age bound (default 43200).
    ///   - onNewToken: told each new sign-in token (the first one too), to print it.
    public init(
        principal: String, idleSeconds: Double = 1800, maxAgeSeconds: Double = 43_200,
        onNewToken: @escaping @Sendable (String) -> Void
    ) {
        self.principal = principal
        self.idleSeconds = idleSeconds
        self.maxAgeSeconds = maxAgeSeconds
        self.onNewToken = onNewToken
        let token = Self.randomToken()
        state = Mutex((token, [:]))
        onNewToken(token)
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
        let result: (Session, String)? = state.withLock { state in
            guard Self.same(token, state.token) else { return nil }
            let session = Session(
                id: Self.randomToken(), principal: principal, csrf: Self.randomToken(), created: now, lastUsed: now)
            state.sessions = state.sessions.filter { now - $0.value.lastUsed < idleSeconds }
            if state.sessions.count >= Self.maxSessions,
                let oldest = state.sessions.values.min(by: { $0.lastUsed < $1.lastUsed })
            {
                state.sessions[oldest.id] = nil
            }
            state.sessions[session.id] = session
            state.token = Self.randomToken()
            return (session, state.token)
        }
        guard let (session, next) = result else { return nil }
        onNewToken(next)
        return session
    }

    /// The live session with cookie value `id` (its use recorded), or `nil`.
    public func session(_ id: String?, now: Double = Date().timeIntervalSince1970) -> Session? {
        guard let id else { return nil }
        return state.withLock { state in
            guard var session = state.sessions[id] else { return nil }
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
