import Foundation
import HTTPTypes
import Hummingbird
import Trace

/// The console's pages, and what each needs: a session for every page but sign-in and the
/// assets, and the session's CSRF token for every POST.
enum ConsoleRoutes {
    /// An HTML response.
    static func page(_ status: HTTPResponse.Status, _ html: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A 303 to `location`.
    static func redirect(_ location: String) -> Response { Response.redirect(to: location, type: .normal) }

    /// The request's form body, bounded.
    static func form(_ request: Request, limit: Int) async throws -> FormFields {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        return FormFields(String(buffer: buffer))
    }

    /// The request's query string's fields.
    static func query(_ request: Request) -> FormFields { FormFields(request.uri.query ?? "") }
}

extension ConsoleServer {
    /// A handler that needs a session; without one, a GET goes to sign-in and anything else is 403.
    /// On the unix socket a session opens only over a connection from the uid it was opened for.
    typealias Handler = @Sendable (Request, ConsoleContext, ConsoleSessions.Session) async throws -> Response

    func signedIn(_ handler: @escaping Handler) -> @Sendable (Request, ConsoleContext) async throws -> Response {
        { request, context in
            let cookie = request.cookies[ConsoleSessions.cookieName]?.value
            guard let session = sessions.session(cookie, uid: context.peer?.credentials.uid) else {
                if request.method == .get { return ConsoleRoutes.redirect("/signin") }
                return ConsoleRoutes.page(
                    .forbidden,
                    ConsolePage.message(
                        title: "Not signed in", session: nil, text: "Sign in first: this request has no session.",
                        back: "/signin"))
            }
            return try await handler(request, context, session)
        }
    }

    /// A POST handler that needs a session and its CSRF token in the form.
    typealias FormHandler =
        @Sendable (Request, ConsoleContext, ConsoleSessions.Session, FormFields) async throws -> Response

    func changing(_ handler: @escaping FormHandler) -> @Sendable (Request, ConsoleContext) async throws -> Response {
        signedIn { request, context, session in
            let fields = try await ConsoleRoutes.form(request, limit: configuration.maxBodyBytes)
            guard ConsoleSessions.csrfMatches(fields["csrf"], session) else {
                audit.record(
                    principal: session.principal, action: "refused", ["path": request.uri.path, "why": "csrf"])
                return ConsoleRoutes.page(
                    .forbidden,
                    ConsolePage.message(
                        title: "Refused", session: session,
                        text:
                            "This form did not carry this session's CSRF token; nothing changed. Reload the page and try again."
                    ))
            }
            return try await handler(request, context, session, fields)
        }
    }

    /// Every route.
    func routes(_ router: Router<ConsoleContext>) {
        router.get("/assets/console.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: ConsoleAssets.css)))
        }
        router.get("/assets/console.js") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/javascript; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: ConsoleAssets.javascript)))
        }
        router.get("/") { _, _ in ConsoleRoutes.redirect("/runs") }
        router.get("/signin") { _, context in ConsoleRoutes.page(.ok, Self.signInPage(peer: context.peer, error: nil)) }
        router.post("/signin") { request, context in
            let session: ConsoleSessions.Session
            if let peer = context.peer {
                // The unix socket: the kernel named the account (ConsoleGate admitted it); no token.
                session = sessions.open(for: peer)
                audit.record(
                    principal: session.principal, action: "sign-in",
                    ["via": "unix-peer", "uid": String(peer.credentials.uid), "pid": String(peer.credentials.pid)])
            } else {
                let fields = try await ConsoleRoutes.form(request, limit: configuration.maxBodyBytes)
                guard let opened = sessions.signIn(token: fields["token"]?.trimmingCharacters(in: .whitespaces) ?? "")
                else {
                    audit.record(principal: "?", action: "sign-in-refused")
                    return ConsoleRoutes.page(
                        .forbidden, Self.signInPage(peer: nil, error: "That token is wrong or was already used."))
                }
                session = opened
                audit.record(principal: session.principal, action: "sign-in", ["via": "token"])
            }
            var response = ConsoleRoutes.redirect("/runs")
            response.setCookie(
                Cookie(
                    name: ConsoleSessions.cookieName, value: session.id, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        router.post(
            "/signout",
            use: changing { request, _, session, _ in
                sessions.signOut(session.id)
                audit.record(principal: session.principal, action: "sign-out")
                var response = ConsoleRoutes.redirect("/signin")
                response.setCookie(
                    Cookie(
                        name: ConsoleSessions.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true,
                        sameSite: .strict))
                return response
            })
        runRoutes(router)
        approvalRoutes(router)
        compareRoutes(router)
    }

    /// Sign-in: on the unix socket, one button for the account the kernel named; on TCP, the token.
    static func signInPage(peer: ConsolePeers.Peer?, error: String?) -> String {
        if let peer {
            return ConsolePage.document(
                title: "Sign in", session: nil,
                body: """
                    <h1>Sign in</h1>
                    <p id="peer">This connection comes from the local account <strong>\(HTML.escape(peer.principal))</strong> \
                    (uid \(peer.credentials.uid), as the kernel reports it): no token is needed on the console's socket.</p>
                    <form method="post" action="/signin" class="inline">
                    <button type="submit" id="signin">Sign in as \(HTML.escape(peer.principal))</button>
                    </form>
                    """)
        }
        return ConsolePage.document(
            title: "Sign in", session: nil,
            body: """
                <h1>Sign in</h1>
                <p>Paste the one-time token <code>airlock console</code> printed where it was started.</p>
                \(error.map { "<p class=\"error\" id=\"message\">\(HTML.escape($0))</p>" } ?? "")
                <form method="post" action="/signin" class="inline">
                <input type="password" name="token" id="token" autocomplete="off" size="70" autofocus>
                <button type="submit" id="signin">Sign in</button>
                </form>
                """)
    }
}
