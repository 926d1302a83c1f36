import AirlockCore
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import Trace

/// `airlock console`: the web console for reviewers and approvers, on Hummingbird. Every page but
/// sign-in needs a session; every state change needs the session's CSRF token; every response
/// carries a strict Content-Security-Policy; the assets are the console's own.
public struct ConsoleServer: Sendable {
    /// What it serves.
    public let configuration: ConsoleConfiguration
    /// Who is signed in.
    public let sessions: ConsoleSessions
    /// Where reads, answers and verdicts are logged.
    public let audit: ConsoleAudit
    let store: TraceStore

    /// Creates the server (nothing listens until ``run(onListening:)``).
    /// - Throws: ``ConsoleError`` `state` when the trace database cannot be opened.
    public init(configuration: ConsoleConfiguration, sessions: ConsoleSessions, audit: ConsoleAudit)
        throws(ConsoleError)
    {
        self.configuration = configuration
        self.sessions = sessions
        self.audit = audit
        do {
            store = try TraceStore(path: configuration.traceDatabase)
        } catch {
            throw ConsoleError(.state, "cannot open the trace database \(configuration.traceDatabase): \(error)")
        }
    }

    /// Serves until SIGINT or SIGTERM.
    /// - Parameter onListening: told the address once it listens (`127.0.0.1:PORT` with the port
    ///   chosen when 0 was asked for, or `unix:PATH`).
    public func run(onListening: @escaping @Sendable (ConsoleAddress) -> Void) async throws {
        let bind: BindAddress
        switch configuration.address {
        case .unix(let path):
            try Self.prepareSocket(path)
            bind = .unixDomainSocket(path: path)
        case .tcp(let host, let port):
            bind = .hostname(host, port: port)
        }
        let router = Router(context: BasicRequestContext.self)
        let hosts = HostCheck()
        router.add(middleware: ConsoleHeaders(hosts: hosts))
        routes(router)
        let address = configuration.address
        let app = Application(
            router: router, configuration: .init(address: bind, serverName: nil),
            onServerRunning: { channel in
                switch address {
                case .unix(let path):
                    // The socket's directory is 0700 already; the socket itself for its owner only.
                    SocketPath.restrict(path)
                    onListening(address)
                case .tcp(let host, _):
                    let port = channel.localAddress?.port ?? 0
                    hosts.allow(host: host, port: port)
                    onListening(.tcp(host: host, port: port))
                }
            })
        try await app.runService()
    }

    /// Makes the socket's directory (0700) and removes a stale socket (never another kind of file).
    static func prepareSocket(_ path: String) throws(ConsoleError) {
        do {
            try SocketPath.prepare(path)
        } catch {
            throw ConsoleError(.state, "\(error); remove it or give another --listen")
        }
    }
}

/// The `Host` values a TCP console answers (its own address and port, and `localhost:PORT` on
/// loopback): a page another site's name resolves to this host (DNS rebinding) is refused.
final class HostCheck: Sendable {
    private let allowed = Mutex<Set<String>>([])

    func allow(host: String, port: Int) {
        var names = [host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"]
        if ConsoleAddress.isLoopback(host) { names.append("localhost:\(port)") }
        allowed.withLock { $0.formUnion(names) }
    }

    /// Whether `host` may be answered; on a unix socket (nothing allowed) any is.
    func permits(_ host: String?) -> Bool {
        allowed.withLock { allowed in allowed.isEmpty || host.map { allowed.contains($0.lowercased()) } == true }
    }
}

/// Sets the security headers on every response and refuses a foreign `Host`.
struct ConsoleHeaders<Context: RequestContext>: RouterMiddleware {
    let hosts: HostCheck

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var response: Response
        if hosts.permits(request.head.authority) {
            response = try await next(request, context)
        } else {
            response = ConsoleRoutes.page(
                .misdirectedRequest,
                ConsolePage.message(
                    title: "Wrong host", session: nil,
                    text: "This console answers only requests addressed to its own address."))
        }
        response.headers[.contentSecurityPolicy] = ConsolePage.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.cacheControl] = "no-store"
        for (name, value) in Self.more { response.headers[name] = value }
        return response
    }

    /// The headers HTTPTypes has no name for.
    static var more: [(HTTPField.Name, String)] {
        [
            ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
            ("Cross-Origin-Opener-Policy", "same-origin"), ("Cross-Origin-Resource-Policy", "same-origin"),
        ].compactMap { name, value in HTTPField.Name(name).map { ($0, value) } }
    }
}
