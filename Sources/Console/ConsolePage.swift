/// The shell every console page shares: the style sheet and script from the console itself, the
/// navigation, who is signed in and the sign-out form.
enum ConsolePage {
    /// The Content-Security-Policy of every console response: only the console's own style sheet,
    /// script and images; the script fetches only from it (an event's content when it opens);
    /// forms post only to it; no framing; nothing else loads.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// A whole page.
    /// - Parameters:
    ///   - title: the page's title (escaped here).
    ///   - session: the signed-in session, or `nil` on the sign-in page.
    ///   - body: the page's markup (already escaped).
    static func document(title: String, session: ConsoleSessions.Session?, body: String) -> String {
        var header = ""
        if let session {
            header = """
                <header class="top"><strong>Airlock console</strong>
                <nav><a href="/runs">Runs</a><a href="/approvals">Approvals</a><a href="/compare">Compare</a></nav>
                <span class="who" id="principal">signed in as \(HTML.escape(session.principal))</span>
                <form method="post" action="/signout">\(csrfField(session))<button type="submit">Sign out</button></form>
                </header>
                """
        }
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="referrer" content="no-referrer">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) — Airlock console</title>
            <link rel="stylesheet" href="/assets/console.css">
            <script src="/assets/console.js"></script>
            </head>
            <body>
            \(header)
            <main>
            \(body)
            </main>
            </body>
            </html>

            """
    }

    /// The hidden field that carries the session's CSRF token.
    static func csrfField(_ session: ConsoleSessions.Session) -> String {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(session.csrf))\">"
    }

    /// A message page (an error, a refusal).
    static func message(title: String, session: ConsoleSessions.Session?, text: String, back: String? = nil) -> String {
        document(
            title: title, session: session,
            body: "<h1>\(HTML.escape(title))</h1><p class=\"error\" id=\"message\">\(HTML.escape(text))</p>"
                + (back.map { "<p><a href=\"\(HTML.escape($0))\">Back</a></p>" } ?? ""))
    }
}
