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
        let hosts: HostCheck
        var peers: ConsolePeers?
        switch configuration.address {
        case .unix(let path):
            try Self.prepareSocket(path)
            bind = .unixDomainSocket(path: path)
            hosts = HostCheck(loopbackNames: true)
            peers = ConsolePeers(ownPrincipal: sessions.principal, admitted: configuration.admittedPeers)
        case .tcp(let host, let port):
            bind = .hostname(host, port: port)
            hosts = HostCheck(loopbackNames: false)
        }
        let router = Router(context: ConsoleContext.self)
        router.add(middleware: ConsoleGate(hosts: hosts, peers: peers, audit: audit))
        routes(router)
        let address = configuration.address
        let shared = !configuration.admittedPeers.isEmpty
        let app = Application(
            router: router, configuration: .init(address: bind, serverName: nil),
            onServerRunning: { channel in
                switch address {
                case .unix(let path):
                    // Its own account only (0600), or, when the site admits other accounts, any
                    // that reaches the directory (0666): each connection's peer is checked.
                    SocketPath.restrict(path, shared: shared)
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

/// The `Host` values the console answers: on TCP its own address and port (and `localhost:PORT` on
/// loopback); on the unix socket a loopback name (`localhost`, `127.0.0.1`, `[::1]`, any port: what
/// a browser through `ssh -L` or socat sends). A page whose own name another site pointed at this
/// host (DNS rebinding) is refused either way.
final class HostCheck: Sendable {
    private let allowed = Mutex<Set<String>>([])
    private let loopbackNames: Bool

    init(loopbackNames: Bool) { self.loopbackNames = loopbackNames }

    func allow(host: String, port: Int) {
        var names = [host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"]
        if ConsoleAddress.isLoopback(host) { names.append("localhost:\(port)") }
        allowed.withLock { $0.formUnion(names) }
    }

    /// Whether a request with `host` (its `Host`, or HTTP/2's authority) may be answered.
    func permits(_ host: String?) -> Bool {
        guard let host = host?.lowercased() else { return loopbackNames }
        if loopbackNames {
            var name = Substring(host)
            if name.hasPrefix("["), let close = name.firstIndex(of: "]") {
                name = name[name.index(after: name.startIndex)..<close]
            } else if let colon = name.lastIndex(of: ":") {
                name = name[..<colon]
            }
            return name == "localhost" || ConsoleAddress.isLoopback(String(name))
        }
        return allowed.withLock { $0.contains(host) }
    }
}

/// In front of every route: on the unix socket, admits the connection's peer (the kernel's
/// credentials, ``ConsolePeers``) or refuses it (403, logged) before anything else is read;
/// refuses a foreign `Host` (421); and sets the security headers on every response.
struct ConsoleGate: RouterMiddleware {
    let hosts: HostCheck
    /// The admission rule on the unix socket; `nil` on TCP.
    let peers: ConsolePeers?
    let audit: ConsoleAudit

    func handle(
        _ request: Request, context: ConsoleContext, next: (Request, ConsoleContext) async throws -> Response
    ) async throws -> Response {
        var response: Response
        var context = context
        if let peers {
            switch peers.admit(try await ConsolePeers.credentials(of: context.channel)) {
            case .success(let peer): context.peer = peer
            case .failure(let refusal):
                audit.record(
                    principal: refusal.name ?? "uid:\(refusal.credentials.uid)", action: "peer-refused",
                    ["uid": String(refusal.credentials.uid), "pid": String(refusal.credentials.pid)])
                response = ConsoleRoutes.page(
                    .forbidden, ConsolePage.message(title: "Not admitted", session: nil, text: refusal.text))
                return Self.secured(response)
            }
        }
        if hosts.permits(request.head.authority) {
            response = try await next(request, context)
        } else {
            response = ConsoleRoutes.page(
                .misdirectedRequest,
                ConsolePage.message(
                    title: "Wrong host", session: nil,
                    text: "This console answers only requests addressed to its own address."))
        }
        return Self.secured(response)
    }

    /// `response` with the security headers.
    static func secured(_ response: Response) -> Response {
        var response = response
        response.headers[.contentSecurityPolicy] = ConsolePage.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.cacheControl] = "no-store"
        for (name, value) in more { response.headers[name] = value }
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
