import AirlockCore
import Console
import Foundation
import Synchronization
import Testing

@Suite("Console: escaping, addresses, forms, sessions")
struct ConsoleUnitTests {
    @Test("recorded text cannot open markup or hide itself")
    func escaping() {
        #expect(
            HTML.escape(#"<script>alert("x")</script> & 'y'"#)
                == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;")
        #expect(HTML.escape("a\u{202E}b\u{1B}[31mc\u{7F}") == "a\\u{202E}b\\u{1B}[31mc\\u{7F}")
        #expect(HTML.escape("line\nnext\ttab") == "line\nnext\ttab")
        // In an element's text quotes stay; markup and hidden characters do not.
        #expect(HTML.text(#"{"a": "<b>"} it's"#) == #"{"a": "&lt;b&gt;"} it's"#)
        #expect(HTML.text("\u{202E}&") == "\\u{202E}&amp;")
        #expect(HTML.urlComponent("run 1/&x=é") == "run%201%2F%26x%3D%C3%A9")
    }

    @Test("escaping over UTF-8 bytes: exactly the scalars a reader must see, around every multi-byte neighbour")
    func escapingBytes() {
        // What escaping means, one scalar at a time.
        func expected(_ scalar: Unicode.Scalar, quotes: Bool) -> String {
            switch scalar {
            case "&": return "&amp;"
            case "<": return "&lt;"
            case ">": return "&gt;"
            case "\"" where quotes: return "&quot;"
            case "'" where quotes: return "&#39;"
            case "\t", "\n", "\r": return String(scalar)
            default:
                switch scalar.value {
                case 0..<0x20, 0x7F..<0xA0, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
                    return "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                default: return String(scalar)
                }
            }
        }
        let ranges: [ClosedRange<UInt32>] = [0...0x2FF, 0x1FF0...0x2080, 0xFFF0...0xFFFD, 0x1F600...0x1F610]
        for range in ranges {
            for value in range {
                guard let scalar = Unicode.Scalar(value) else { continue }
                for quotes in [true, false] {
                    let text = "a" + String(scalar) + "b"
                    let wanted = "a" + expected(scalar, quotes: quotes) + "b"
                    let got = quotes ? HTML.escape(text) : HTML.text(text)
                    if got != wanted { Issue.record("U+\(String(value, radix: 16)) quotes \(quotes): \(got)") }
                }
            }
        }
        // Runs of ordinary text are copied whole, escapes at both ends and side by side.
        var out = HTMLWriter()
        out.raw("<pre>")
        out.text("<\u{202E}\u{1B}&>é\u{85}")
        out.attribute("'\"")
        out.raw("</pre>")
        #expect(out.string == "<pre>&lt;\\u{202E}\\u{1B}&amp;&gt;é\\u{85}&#39;&quot;</pre>")
    }

    @Test("times round-trip between the civil date and nanoseconds")
    func dates() throws {
        let midnight = try #require(RunsQuery.midnight("2026-12-07"))
        #expect(HTML.time(midnight) == "2026-12-07T00:00:00Z")
        #expect(HTML.time(midnight + 86_399 * 1_000_000_000) == "2026-12-07T23:59:59Z")
        #expect(RunsQuery.midnight("1970-01-01") == 0)
        #expect(RunsQuery.midnight("2024-02-29").map(HTML.time) == "2024-02-29T00:00:00Z")
        #expect(RunsQuery.midnight("2026-13-01") == nil)
        #expect(RunsQuery.midnight("yesterday") == nil)
    }

    @Test("--listen: loopback and unix sockets; names refused; other addresses only when the site lists them")
    func addresses() throws {
        #expect(try ConsoleAddress(parsing: "127.0.0.1:8080", allowed: []) == .tcp(host: "127.0.0.1", port: 8080))
        #expect(try ConsoleAddress(parsing: "[::1]:0", allowed: []) == .tcp(host: "::1", port: 0))
        #expect(try ConsoleAddress(parsing: "unix:/tmp/c.sock", allowed: []) == .unix(path: "/tmp/c.sock"))
        #expect(try ConsoleAddress(parsing: "10.0.0.5:80", allowed: ["10.0.0.5"]) == .tcp(host: "10.0.0.5", port: 80))
        for (text, words) in [
            ("0.0.0.0:8080", "not a loopback address"), ("10.0.0.5:80", "console_listen"),
            ("localhost:8080", "not a numeric address"), ("127.0.0.1:99999", "port"), ("127.0.0.1", "ADDRESS:PORT"),
            ("unix:relative.sock", "absolute path"), ("256.0.0.1:80", "not a numeric address"),
        ] {
            #expect(throws: ConsoleError.self, "\(text)") { try ConsoleAddress(parsing: text, allowed: []) }
            do {
                _ = try ConsoleAddress(parsing: text, allowed: [])
            } catch {
                #expect(error.code == .usage)
                #expect(error.message.contains(words), "\(error.message)")
            }
        }
    }

    @Test("form bodies: + is a space, %XX a byte, the first of a repeated field wins")
    func forms() {
        let fields = FormFields("reason=looks+fine%21&csrf=abc&csrf=evil&empty=&scope=once")
        #expect(fields["reason"] == "looks fine!")
        #expect(fields["csrf"] == "abc")
        #expect(fields["empty"] == nil)
        #expect(fields.values["empty"] == "")
        #expect(fields["missing"] == nil)
    }

    @Test("the sign-in token opens one session, then is replaced; CSRF tokens are per session")
    func sessions() throws {
        let tokens = TokenLog()
        let sessions = ConsoleSessions(principal: "bob") { tokens.append($0) }
        let first = try #require(tokens.all.first)
        #expect(first.count == 64)
        #expect(sessions.signIn(token: "wrong") == nil)
        let session = try #require(sessions.signIn(token: first))
        #expect(session.principal == "bob")
        #expect(sessions.signIn(token: first) == nil, "a used token opens nothing")
        #expect(tokens.all.count == 2 && tokens.all[1] != first)
        #expect(sessions.session(session.id)?.csrf == session.csrf)
        #expect(sessions.session(nil) == nil)
        #expect(sessions.session("not-a-session") == nil)
        #expect(ConsoleSessions.csrfMatches(session.csrf, session))
        #expect(!ConsoleSessions.csrfMatches(nil, session))
        #expect(!ConsoleSessions.csrfMatches(session.id, session))
        let other = try #require(sessions.signIn(token: tokens.all[1]))
        #expect(other.csrf != session.csrf)
        #expect(sessions.session(session.id, now: Date().timeIntervalSince1970 + 3600) == nil, "idle sessions close")
        sessions.signOut(other.id)
        #expect(sessions.session(other.id) == nil)
    }

    @Test(
        "on the unix socket: the kernel's uid names the principal; the site's list admits; a session keeps to its uid")
    func peers() throws {
        let peers = ConsolePeers(ownPrincipal: "bob", admitted: ["nobody"], ownUID: 4242)
        func credentials(_ uid: UInt32) -> ConsolePeers.Credentials { .init(pid: 1234, uid: uid, gid: uid) }
        #expect(try peers.admit(credentials(4242)).get().principal == "bob", "its own account acts as its principal")
        #expect(try peers.admit(credentials(65534)).get().principal == "nobody", "a listed account acts as its name")
        guard case .failure(let root) = peers.admit(credentials(0)) else {
            Issue.record("root is not listed: refused")
            return
        }
        #expect(root.name == "root")
        #expect(root.text.contains("account root (uid 0)") && root.text.contains("it lists nobody"), "\(root.text)")
        guard case .failure(let unnamed) = ConsolePeers(ownPrincipal: "bob", admitted: []).admit(credentials(3_999_999))
        else {
            Issue.record("a uid without an account is refused")
            return
        }
        #expect(unnamed.name == nil)
        #expect(
            unnamed.text.contains("uid 3999999, which has no account name") && unnamed.text.contains("it lists none"))

        // No token on the socket: sessions open for a peer, and only over that peer's uid.
        let sessions = ConsoleSessions(principal: "bob", onNewToken: nil)
        #expect(sessions.signIn(token: "") == nil, "no token exists to guess")
        let nobody = try peers.admit(credentials(65534)).get()
        let session = sessions.open(for: nobody)
        #expect(session.principal == "nobody" && session.uid == 65534)
        #expect(sessions.session(session.id, uid: 65534)?.id == session.id)
        #expect(sessions.session(session.id, uid: 4242) == nil, "another account's connection: no session")
        #expect(sessions.session(session.id) == nil, "nor on TCP")
    }

    @Test("account names from the password database")
    func accountNames() {
        #expect(Posix.accountName(uid: 0) == "root")
        #expect(Posix.accountName(uid: 65534) == "nobody")
        #expect(Posix.accountName(uid: 3_999_999) == nil)
    }

    @Test("the report's policy allows its own inline style sheet and nothing else")
    func reportPolicy() {
        let digest = Data(SHA256.hash(Array(ConsoleAssets.css.utf8))).base64EncodedString()
        #expect(RunReport.contentSecurityPolicy.hasPrefix("default-src 'none'; style-src 'sha256-\(digest)'"))
        #expect(!RunReport.contentSecurityPolicy.contains("script-src"))
    }

    @Test("each event type has its lane")
    func lanes() {
        #expect(RunView.Lane(eventType: "model.response") == .model)
        #expect(RunView.Lane(eventType: "policy.decision") == .policy)
        #expect(RunView.Lane(eventType: "approval.granted") == .approval)
        #expect(RunView.Lane(eventType: "tool.executed") == .tool)
        #expect(RunView.Lane(eventType: "run.finished") == .run)
        #expect(RunView.Lane(eventType: "something.new") == .run)
    }
}

/// The tokens a `ConsoleSessions` announced, in order.
final class TokenLog: Sendable {
    private let tokens = Mutex<[String]>([])
    func append(_ token: String) { tokens.withLock { $0.append(token) } }
    var all: [String] { tokens.withLock { $0 } }
}
