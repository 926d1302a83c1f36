import AirlockCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock trace report` and `airlock console` through the built binary: the report's content
/// and its closed policy; the console's sign-in, sessions, CSRF, headers and Host check; a
/// request a real waiting `airlock run` made, answered from the console (bound to the digest the
/// form showed, separation of duties held); a verdict recorded from it.
@Suite("airlock trace report, airlock console (CLI)", .serialized)
final class ConsoleCLITests {
    /// A home with the sample site, and the approval scenario's helpers (workflow, model, runs).
    let scenario: ApprovalsCLITests
    var home: URL { scenario.home }
    var env: [String: String] { scenario.env }

    init() throws {
        scenario = try ApprovalsCLITests()
    }

    /// A finished run of log-triage whose answer holds markup and a control character.
    func recordedRun(answer: String = "Done <script>alert(1)</script> \u{1B}[31m") throws -> String {
        let workflow = SampleSite.root.appendingPathComponent("manifests/workflows/log-triage.yaml").path
        let script = try scenario.file(
            "model.yaml",
            "responses:\n  - tool_calls: [{name: logs.search, arguments: {pattern: ERROR}}]\n  - content: \(JSONValue.string(answer).canonicalString)\n"
        )
        let result = try CLI.run(
            ["run", workflow, "--model", "script:" + script, "--json", "--quiet"], environment: env)
        try #require(result.status == 0, "\(result.stderr)")
        return try #require(try JSONParser().parse(result.stdout)["run_id"]?.stringValue)
    }

    @Test("trace report: one self-contained file with the timeline in lanes, every event's content, the verification")
    func report() throws {
        let run = try recordedRun()
        let path = home.appendingPathComponent("run.html").path
        let written = try CLI.run(["trace", "report", run, "-o", path], environment: env)
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stdout.contains("wrote \(path): verified: \(run): intact"), "\(written.stdout)")
        let html = try String(contentsOfFile: path, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<p class=\"banner banner-intact\" id=\"verification\">Verified: \(run): intact"))
        // Every event is there, in its lane, as a <details> that opens without a script.
        let show = try JSONParser().parse(try CLI.run(["trace", "show", run, "--json"], environment: env).stdout)
        let events = try #require(show.arrayValue)
        #expect(events.count >= 8)
        for event in events {
            let seq = try #require(event["seq"]?.integerValue)
            #expect(html.contains("id=\"e\(seq)\""), "event \(seq) missing")
        }
        for lane in ["run", "model", "policy", "tool"] { #expect(html.contains("class=\"event lane-\(lane)\"")) }
        #expect(html.components(separatedBy: "<details>").count - 1 >= events.count)
        // The content: the decision with its rule, the execution record with its confinement, stdout.
        #expect(html.contains("<h4>decision</h4><pre>allow</pre>"), "the decision's text")
        #expect(html.contains("<h4>confinement</h4>"))
        #expect(html.contains("seccompBPFSHA256"))
        #expect(html.contains("<h4>stdout</h4>"))
        // Recorded text is escaped, never markup.
        #expect(!html.contains("<script>alert(1)</script>"))
        #expect(html.contains("Done &lt;script&gt;alert(1)&lt;/script&gt; \\u{1B}[31m"))
        // Self-contained: no script, no external reference, and a policy that forbids every fetch.
        #expect(!html.contains("<script"))
        #expect(!html.contains("src="))
        #expect(!html.contains("<link"))
        #expect(!html.contains("url("))
        #expect(
            html.contains(
                #"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-"#))

        // A run that does not verify: still written, its banner says so, exit 1.
        try SampleSite.tamperTrace(home, replacing: "ERROR", with: "FINE!")
        let tampered = try CLI.run(["trace", "report", run, "-o", path], environment: env)
        #expect(tampered.status == 1, "\(tampered.stdout)\(tampered.stderr)")
        #expect(
            try String(contentsOfFile: path, encoding: .utf8).contains("DOES NOT VERIFY — what follows is not evidence")
        )

        let missing = try CLI.run(["trace", "report", "no-such-run", "-o", path], environment: env)
        #expect(missing.status == 66)
        let unwritable = try CLI.run(["trace", "report", run, "-o", "/nonexistent/dir/run.html"], environment: env)
        #expect(unwritable.status == 74)
        #expect(unwritable.stderr.contains("cannot write the report /nonexistent/dir/run.html"))
    }

    /// A console on loopback as `user`, and a signed-in session: cookie and CSRF token.
    func signedIn(user: String = "bob") throws -> (ConsoleProcess, String, String, String) {
        let console = try ConsoleProcess(["--listen", "127.0.0.1:0"], environment: env.merging(["USER": user]) { $1 })
        let origin = try console.origin()
        let signIn = try HTTPExchange.send("POST", origin + "/signin", form: [("token", try console.token())])
        try #require(signIn.status == 303, "\(signIn.body)")
        #expect(signIn.headers["location"] == "/runs")
        let cookie = try #require(signIn.sessionCookie)
        let setCookie = signIn.headers["set-cookie"] ?? ""
        #expect(setCookie.contains("HttpOnly"))
        #expect(setCookie.contains("SameSite=Strict"))
        let page = try HTTPExchange.send("GET", origin + "/runs", cookie: cookie)
        try #require(page.status == 200)
        return (console, origin, cookie, try #require(page.csrf))
    }

    @Test("console: sign-in once per token, sessions, CSRF, the Host check, the headers, the runs and a run")
    func accessAndPages() throws {
        let run = try recordedRun()
        let (console, origin, cookie, csrf) = try signedIn()
        defer { console.stop() }

        // Without a session: pages send to sign-in, state changes are refused.
        let anonymous = try HTTPExchange.send("GET", origin + "/runs/\(run)")
        #expect(anonymous.status == 303)
        #expect(anonymous.headers["location"] == "/signin")
        let forged = try HTTPExchange.send(
            "POST", origin + "/runs/\(run)/verdict", form: [("verdict", "ok"), ("note", "x"), ("csrf", csrf)])
        #expect(forged.status == 403)
        // A used token opens nothing; the next one printed does.
        let reused = try HTTPExchange.send("POST", origin + "/signin", form: [("token", try console.token(0))])
        #expect(reused.status == 403)
        #expect(reused.body.contains("wrong or was already used"))
        #expect(
            try HTTPExchange.send("POST", origin + "/signin", form: [("token", try console.token(1))]).status == 303)
        // With a session but without (or with another) CSRF token: refused, nothing recorded.
        for token in [nil, "0123", cookie] as [String?] {
            var form = [("verdict", "ok"), ("note", "looks fine")]
            if let token { form.append(("csrf", token)) }
            let refused = try HTTPExchange.send("POST", origin + "/runs/\(run)/verdict", form: form, cookie: cookie)
            #expect(refused.status == 403, "\(refused.body)")
            #expect(refused.body.contains("CSRF"))
        }
        #expect(!(try CLI.run(["trace", "show", run], environment: env)).stdout.contains("verdict:"))
        // Another Host (a name rebound to this address): refused.
        let rebound = try HTTPExchange.send("GET", origin + "/runs", cookie: cookie, host: "evil.example:80")
        #expect(rebound.status == 421)

        // Every response: the strict policy and the other headers; assets are the console's own.
        let page = try HTTPExchange.send("GET", origin + "/runs/\(run)", cookie: cookie)
        #expect(page.status == 200)
        #expect(
            page.headers["content-security-policy"]
                == "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        #expect(page.headers["x-content-type-options"] == "nosniff")
        #expect(page.headers["x-frame-options"] == "DENY")
        #expect(page.headers["referrer-policy"] == "no-referrer")
        #expect(page.headers["cache-control"] == "no-store")
        #expect(page.body.contains("Verified: \(run): intact"))
        #expect(page.body.contains("id=\"principal\">signed in as bob"))
        #expect(!page.body.contains("<script>alert(1)"))
        #expect(!page.body.contains("http://") && !page.body.contains("https://"), "no external reference")
        #expect(
            try HTTPExchange.send("GET", origin + "/assets/console.css").headers["content-type"]?.hasPrefix("text/css")
                == true)

        // The run page draws the timeline's lines; each event's content is its own page, fetched
        // when it opens; `?content=all` draws every content inline, as the report does.
        let decision = try #require(
            try JSONParser().parse(try CLI.run(["trace", "show", run, "--json"], environment: env).stdout).arrayValue?
                .first { $0["type"]?.stringValue == "policy.decision" }?["seq"]?.integerValue)
        #expect(page.body.contains("<details data-content=\"/runs/\(run)/events/\(decision)\">"), "\(page.body)")
        #expect(!page.body.contains("<h4>decision</h4>"), "contents are not on the page")
        let opened = try HTTPExchange.send("GET", origin + "/runs/\(run)/events/\(decision)", cookie: cookie)
        #expect(opened.status == 200)
        #expect(opened.body.contains("<div class=\"body\" id=\"event-body\"><h4>decision</h4><pre>allow</pre>"))
        let whole = try HTTPExchange.send("GET", origin + "/runs/\(run)?content=all", cookie: cookie)
        #expect(whole.body.contains("<h4>decision</h4><pre>allow</pre>"))
        #expect(whole.body.contains("Done &lt;script&gt;alert(1)&lt;/script&gt; \\u{1B}[31m"))
        #expect(!whole.body.contains("<script>alert(1)"))
        #expect(try HTTPExchange.send("GET", origin + "/runs/\(run)/events/99999", cookie: cookie).status == 404)
        #expect(try HTTPExchange.send("GET", origin + "/runs/\(run)/events/\(decision)").status == 303)

        // The runs list filters, and shows each run's verification.
        let list = try HTTPExchange.send("GET", origin + "/runs?workflow=log-triage&principal=ana", cookie: cookie)
        #expect(list.body.contains(run) == false, "the run's principal is the test's USER, not ana")
        let all = try HTTPExchange.send("GET", origin + "/runs?workflow=log-triage", cookie: cookie)
        #expect(all.body.contains("<a href=\"/runs/\(run)\">\(run)</a>"))
        #expect(all.body.contains("<span class=\"badge badge-intact\">intact</span>"))
        let badDate = try HTTPExchange.send("GET", origin + "/runs?from=yesterday", cookie: cookie)
        #expect(badDate.body.contains("from: yesterday is not a date (YYYY-MM-DD)"))

        // A verdict from the console: signed, by the signed-in principal, shown by trace show.
        let verdict = try HTTPExchange.send(
            "POST", origin + "/runs/\(run)/verdict",
            form: [("verdict", "flag"), ("note", "odd answer"), ("csrf", csrf)],
            cookie: cookie)
        #expect(verdict.status == 303, "\(verdict.body)")
        let shown = try CLI.run(["trace", "show", run], environment: env)
        #expect(shown.stdout.contains("verdict: flag by bob: \"odd answer\""), "\(shown.stdout)")
        let empty = try HTTPExchange.send(
            "POST", origin + "/runs/\(run)/verdict", form: [("verdict", "ok"), ("note", ""), ("csrf", csrf)],
            cookie: cookie)
        #expect(empty.status == 422)

        // Reads, verdicts and refusals are attributed in the audit log.
        let audit = try String(contentsOf: home.appendingPathComponent("console-audit.jsonl"), encoding: .utf8)
        #expect(audit.contains(#""action":"read-run","at":"#))
        #expect(audit.contains(#""principal":"bob","run":"\#(run)""#))
        #expect(audit.contains(#""action":"verdict""#))
        #expect(audit.contains(#""why":"csrf""#))
        #expect(audit.contains(#""action":"read-event","at":"#))

        // A run that no longer verifies: its page and badge say so, and a verdict is refused.
        try SampleSite.tamperTrace(home, replacing: "ERROR", with: "FINE!")
        let broken = try HTTPExchange.send("GET", origin + "/runs/\(run)", cookie: cookie)
        #expect(broken.body.contains("DOES NOT VERIFY — what follows is not evidence"))
        let listed = try HTTPExchange.send("GET", origin + "/runs", cookie: cookie)
        #expect(listed.body.contains("<span class=\"badge badge-broken\">broken</span>"))
        let refusedVerdict = try HTTPExchange.send(
            "POST", origin + "/runs/\(run)/verdict", form: [("verdict", "ok"), ("note", "fine"), ("csrf", csrf)],
            cookie: cookie)
        #expect(refusedVerdict.status == 422)
        #expect(refusedVerdict.body.contains("does not verify"))

        // Signing out ends the session.
        #expect(
            try HTTPExchange.send("POST", origin + "/signout", form: [("csrf", csrf)], cookie: cookie).status == 303)
        #expect(try HTTPExchange.send("GET", origin + "/runs", cookie: cookie).status == 303)
        #expect(console.stop() == 0)
    }

    @Test("console: bob approves ana's waiting run; changed arguments and ana's own approval are refused")
    func approvals() throws {
        let run = try scenario.start(
            try scenario.workflow(policy: try scenario.separatingPolicy()), model: try scenario.model())
        let id = try scenario.waitForRequest(of: run)

        // ana, the run's principal, cannot approve it: separation of duties, as on the command line.
        let (anas, anaOrigin, anaCookie, anaCSRF) = try signedIn(user: "ana")
        let queue = try HTTPExchange.send("GET", anaOrigin + "/approvals", cookie: anaCookie)
        #expect(queue.body.contains("id=\"request-\(id)\""))
        #expect(queue.body.contains("someone other than ana"))
        let digest = try #require(
            try scenario.pending().first { $0["id"]?.stringValue == id }?["arguments_sha256"]?.stringValue)
        #expect(queue.body.contains("value=\"\(digest)\""))
        let own = try HTTPExchange.send(
            "POST", anaOrigin + "/approvals/\(id)",
            form: [("decision", "approve"), ("scope", "once"), ("sha256", digest), ("csrf", anaCSRF)], cookie: anaCookie
        )
        #expect(own.status == 403, "\(own.body)")
        #expect(own.body.contains("requires someone other than the run&#39;s principal (ana)"))
        anas.stop()

        let (console, origin, cookie, csrf) = try signedIn(user: "bob")
        defer { console.stop() }
        // An answer given for other arguments than the request's is refused; it stays pending.
        let changed = try HTTPExchange.send(
            "POST", origin + "/approvals/\(id)",
            form: [
                ("decision", "approve"), ("scope", "once"), ("sha256", String(repeating: "0", count: 64)),
                ("csrf", csrf),
            ],
            cookie: cookie)
        #expect(changed.status == 409, "\(changed.body)")
        #expect(changed.body.contains("nothing changed"))
        // Without the CSRF token: refused.
        let forged = try HTTPExchange.send(
            "POST", origin + "/approvals/\(id)",
            form: [("decision", "approve"), ("scope", "once"), ("sha256", digest)],
            cookie: cookie)
        #expect(forged.status == 403)
        #expect(try scenario.pending().contains { $0["id"]?.stringValue == id }, "still pending")

        let approved = try HTTPExchange.send(
            "POST", origin + "/approvals/\(id)",
            form: [
                ("decision", "approve"), ("scope", "once"), ("sha256", digest), ("reason", "read the query"),
                ("csrf", csrf),
            ],
            cookie: cookie)
        #expect(approved.status == 303, "\(approved.body)")
        let result = run.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let runID = try scenario.runID(result)
        let granted = try #require(try scenario.events(runID, "approval.granted").first)
        #expect(granted["approver"]?.stringValue == "bob")
        #expect(granted["reason"]?.stringValue == "read the query")
        #expect(granted["arguments_sha256"]?.stringValue == digest)
        let again = try HTTPExchange.send(
            "POST", origin + "/approvals/\(id)",
            form: [("decision", "deny"), ("sha256", digest), ("reason", "too late"), ("csrf", csrf)], cookie: cookie)
        #expect(again.status == 409)
        #expect(again.body.contains("is no longer pending: it was granted by bob"))
        let audit = try String(contentsOf: home.appendingPathComponent("console-audit.jsonl"), encoding: .utf8)
        #expect(audit.contains(#""action":"approve""#))
        #expect(audit.contains(#""why":"self-approval""#))
        #expect(audit.contains(#""why":"arguments-changed""#))
    }

    @Test("console: two runs side by side with their differences; what-if flips over every run")
    func compareAndWhatIf() throws {
        let a = try recordedRun(answer: "Found ERROR lines.")
        let b = try recordedRun(answer: "Nothing found.")
        let (console, origin, cookie, csrf) = try signedIn()
        defer { console.stop() }
        let page = try HTTPExchange.send("GET", origin + "/compare?a=\(a)&b=\(b)", cookie: cookie)
        #expect(page.status == 200)
        #expect(page.body.contains("<a href=\"/runs/\(a)\">") && page.body.contains("<a href=\"/runs/\(b)\">"))
        // The same differences `trace diff` finds: the answers differ.
        let diff = try CLI.run(["trace", "diff", a, b], environment: env)
        #expect(diff.status == 1)
        #expect(page.body.contains("<tr class=\"diff-only\"><td>answer</td>"), "\(page.body)")
        #expect(page.body.contains("Found ERROR lines.") && page.body.contains("Nothing found."))
        #expect(!page.body.contains("id=\"identical\""))
        // Both timelines side by side, step by step: the last step, with the answers, differs.
        #expect(page.body.contains("<table id=\"steps\" class=\"steps\">"))
        #expect(page.body.contains("<tr id=\"step-0\""))
        let lastStep = try #require(
            page.body.components(separatedBy: "<tr id=\"step-").dropFirst().last?.prefix { $0 != "<" })
        #expect(lastStep.contains("class=\"diff-only\""), "\(lastStep)")
        #expect(
            page.body.contains("<a href=\"/runs/\(a)/events/") && page.body.contains("<a href=\"/runs/\(b)/events/"))

        // What-if: a policy that forbids logs.search flips every run's call, allow→deny.
        let shipped = SampleSite.root.appendingPathComponent("manifests/policies/workflows.yaml")
        let policy =
            try String(contentsOf: shipped, encoding: .utf8)
            + "\n  - id: whatif.no-search\n    effect: forbid\n    when:\n      tools: [logs.search]\n    reason: \"Searches are withdrawn.\"\n    tags: [maestro:L3]\n"
        let whatIf = try HTTPExchange.send(
            "POST", origin + "/compare/what-if", form: [("policy", policy), ("csrf", csrf)], cookie: cookie)
        #expect(whatIf.status == 200)
        #expect(whatIf.body.contains("2 run(s), 2 decision(s) re-judged, 2 flip(s)"), "\(whatIf.body)")
        #expect(whatIf.body.contains("<td>logs.search</td><td>allow→deny</td>"))
        #expect(whatIf.body.contains("whatif.no-search"))
        let bad = try HTTPExchange.send(
            "POST", origin + "/compare/what-if", form: [("policy", "rules: nope"), ("csrf", csrf)], cookie: cookie)
        #expect(bad.body.contains("id=\"message\">policy: "))
        let forged = try HTTPExchange.send(
            "POST", origin + "/compare/what-if", form: [("policy", policy)], cookie: cookie)
        #expect(forged.status == 403)
    }

    @Test("console: by default on a unix socket only its owner can open, in a 0700 directory; no token there")
    func unixSocketByDefault() throws {
        let console = try ConsoleProcess([], environment: env.merging(["USER": "bob"]) { $1 })
        defer { console.stop() }
        let socket = home.appendingPathComponent("run/console.sock").path
        let line = try console.line(after: "console: listening on ")
        #expect(line.hasPrefix("unix:\(socket) as bob "), "\(line)")
        #expect(!console.stdout.contains("sign-in token"), "no token on the socket: \(console.stdout)")
        let mode = { (path: String) in
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1
        }
        #expect(mode(socket) == 0o600)
        #expect(mode(home.appendingPathComponent("run").path) & 0o077 == 0)
        let page = try HTTPExchange.send("GET", "http://localhost/runs", unixSocket: socket)
        #expect(page.status == 303)
        // The kernel names this process's account: the console's own, acting as its principal.
        let form = try HTTPExchange.send("GET", "http://localhost/signin", unixSocket: socket)
        #expect(form.body.contains("<strong>bob</strong> (uid \(geteuid())"), "\(form.body)")
        let signIn = try HTTPExchange.send("POST", "http://localhost/signin", unixSocket: socket)
        #expect(signIn.status == 303)
        let cookie = try #require(signIn.sessionCookie)
        let runs = try HTTPExchange.send("GET", "http://localhost/runs", cookie: cookie, unixSocket: socket)
        #expect(runs.status == 200)
        #expect(runs.body.contains("<h1>Runs</h1>"))
        #expect(runs.body.contains("signed in as bob"))
        // A name other than loopback's (a rebound name through a forwarded port): refused.
        let rebound = try HTTPExchange.send("GET", "http://evil.example/runs", cookie: cookie, unixSocket: socket)
        #expect(rebound.status == 421)
        // Another account cannot even connect: the socket is its owner's.
        let nobody = try CLI.run(
            ["-s", "--max-time", "60", "--unix-socket", socket, "http://localhost/signin"],
            launcher: Self.asNobody, executable: URL(fileURLWithPath: "/usr/bin/curl"))
        #expect(nobody.status == 7, "curl as nobody: \(nobody.status) \(nobody.stdout)\(nobody.stderr)")
    }

    /// `setpriv` as the account `nobody` (uid 65534), no supplementary groups.
    static let asNobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

    @Test(
        "console on a shared socket: the kernel names each peer; nobody (listed) signs in, reads, approves and records a verdict as nobody, and cannot approve its own run; daemon (unlisted) is refused",
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") && geteuid() == 0,
            "needs root and setpriv"))
    func peersOnTheSocket() throws {
        let recorded = try recordedRun()
        // A directory the site controls, that other accounts may traverse.
        let shared = URL(fileURLWithPath: "/tmp/airlock-console-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: false)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: shared.path)
        defer { try? FileManager.default.removeItem(at: shared) }
        try Data("console_peers: [nobody]\n".utf8).write(to: home.appendingPathComponent("site.yaml"))
        let socket = shared.appendingPathComponent("console.sock").path
        let console = try ConsoleProcess(
            ["--listen", "unix:" + socket], environment: env.merging(["USER": "bob"]) { $1 })
        defer { console.stop() }
        let line = try console.line(after: "console: listening on ")
        #expect(line.hasPrefix("unix:\(socket) as bob; also admits nobody"), "\(line)")
        #expect(
            ((try? FileManager.default.attributesOfItem(atPath: socket))?[.posixPermissions] as? Int) == 0o666,
            "others may connect: the console checks each peer")
        func send(
            _ method: String, _ path: String, form: [(String, String)] = [], cookie: String? = nil,
            as launcher: [String] = Self.asNobody
        ) throws -> HTTPExchange {
            try HTTPExchange.send(
                method, "http://localhost" + path, form: form, cookie: cookie, unixSocket: socket, launcher: launcher)
        }

        // nobody: no token, the kernel's word; the session acts as nobody.
        let form = try send("GET", "/signin")
        #expect(form.body.contains("<strong>nobody</strong> (uid 65534"), "\(form.body)")
        let signIn = try send("POST", "/signin")
        #expect(signIn.status == 303, "\(signIn.body)")
        let cookie = try #require(signIn.sessionCookie)
        let page = try send("GET", "/runs/\(recorded)", cookie: cookie)
        #expect(page.status == 200)
        #expect(page.body.contains("id=\"principal\">signed in as nobody"))
        let csrf = try #require(page.csrf)
        // nobody's cookie over a connection from another account opens nothing.
        let stolen = try send("GET", "/runs", cookie: cookie, as: [])
        #expect(stolen.status == 303)
        #expect(stolen.headers["location"] == "/signin")

        // A verdict, signed, by nobody.
        let verdict = try send(
            "POST", "/runs/\(recorded)/verdict", form: [("verdict", "ok"), ("note", "read by nobody"), ("csrf", csrf)],
            cookie: cookie)
        #expect(verdict.status == 303, "\(verdict.body)")
        #expect(
            try CLI.run(["trace", "show", recorded], environment: env).stdout.contains(
                "verdict: ok by nobody: \"read by nobody\""))

        // Separation of duties by the kernel's name: nobody cannot approve nobody's run; bob can.
        let policy = try scenario.separatingPolicy()
        let own = try scenario.start(try scenario.workflow(policy: policy), model: try scenario.model(), user: "nobody")
        let ownID = try scenario.waitForRequest(of: own)
        func digest(_ id: String) throws -> String {
            try #require(try scenario.pending().first { $0["id"]?.stringValue == id }?["arguments_sha256"]?.stringValue)
        }
        let refused = try send(
            "POST", "/approvals/\(ownID)",
            form: [("decision", "approve"), ("scope", "once"), ("sha256", try digest(ownID)), ("csrf", csrf)],
            cookie: cookie)
        #expect(refused.status == 403, "\(refused.body)")
        #expect(refused.body.contains("(nobody)"), "\(refused.body)")
        let bobIn = try send("POST", "/signin", as: [])
        let bobCookie = try #require(bobIn.sessionCookie)
        let bobCSRF = try #require(try send("GET", "/approvals", cookie: bobCookie, as: []).csrf)
        let byBob = try send(
            "POST", "/approvals/\(ownID)",
            form: [("decision", "approve"), ("scope", "once"), ("sha256", try digest(ownID)), ("csrf", bobCSRF)],
            cookie: bobCookie, as: [])
        #expect(byBob.status == 303, "\(byBob.body)")
        let ownResult = own.finish()
        #expect(ownResult.status == 0, "\(ownResult.stderr)")
        #expect(
            try scenario.events(try scenario.runID(ownResult), "approval.granted").first?["approver"]?.stringValue
                == "bob")

        // nobody approves ana's run: the trace names nobody.
        let anas = try scenario.start(try scenario.workflow(policy: policy), model: try scenario.model())
        let anasID = try scenario.waitForRequest(of: anas)
        let approved = try send(
            "POST", "/approvals/\(anasID)",
            form: [
                ("decision", "approve"), ("scope", "once"), ("sha256", try digest(anasID)), ("reason", "checked"),
                ("csrf", csrf),
            ],
            cookie: cookie)
        #expect(approved.status == 303, "\(approved.body)")
        let anasResult = anas.finish()
        #expect(anasResult.status == 0, "\(anasResult.stderr)")
        let granted = try #require(try scenario.events(try scenario.runID(anasResult), "approval.granted").first)
        #expect(granted["approver"]?.stringValue == "nobody")
        #expect(granted["reason"]?.stringValue == "checked")

        // daemon: an account, but not one the site lists: refused before any page.
        let daemon = try send("GET", "/signin", as: ["/usr/bin/setpriv", "--reuid=1", "--regid=1", "--clear-groups"])
        #expect(daemon.status == 403)
        #expect(daemon.body.contains("account daemon (uid 1)"), "\(daemon.body)")
        #expect(daemon.body.contains("console_peers"))

        // The audit log names each principal, and the refused peer.
        let audit = try String(contentsOf: home.appendingPathComponent("console-audit.jsonl"), encoding: .utf8)
        #expect(
            audit.contains(#""action":"sign-in","at":"#)
                && audit.contains(#""principal":"nobody","uid":"65534","via":"unix-peer""#), "\(audit)")
        #expect(
            audit.contains(#""action":"read-run","at":"#)
                && audit.contains(#""principal":"nobody","run":"\#(recorded)""#))
        #expect(audit.contains(#""action":"verdict""#))
        #expect(audit.contains(#""action":"approve""#))
        #expect(audit.contains(#""action":"peer-refused""#) && audit.contains(#""principal":"daemon","uid":"1""#))
        #expect(audit.contains(#""why":"self-approval""#))
    }

    @Test("console --listen: a non-loopback address or a name is refused (64) before anything listens")
    func listenIsChecked() throws {
        for listen in ["0.0.0.0:8080", "localhost:8080", "127.0.0.1"] {
            let refused = try CLI.run(["console", "--listen", listen], environment: env)
            #expect(refused.status == 64, "\(listen): \(refused.stderr)")
        }
        try Data("console_listen: [not-an-address]\n".utf8).write(to: home.appendingPathComponent("site.yaml"))
        let badSite = try CLI.run(["console"], environment: env)
        #expect(badSite.status == 65)
        #expect(badSite.stderr.contains("/console_listen/0"))
    }

    @Test(
        "through a real browser with only loopback: sign in, open a run, expand an event, approve a waiting run, record a verdict; nothing fetched from outside",
        .enabled(if: Browser.available, "needs chromium and unshare (tools/install-deps)"))
    func inTheBrowser() throws {
        let recorded = try recordedRun()
        let report = home.appendingPathComponent("report.html")
        #expect(try CLI.run(["trace", "report", recorded, "-o", report.path], environment: env).status == 0)
        let run = try scenario.start(try scenario.workflow(), model: try scenario.model())
        let id = try scenario.waitForRequest(of: run)

        let out = home.appendingPathComponent("console.out")
        let pidFile = home.appendingPathComponent("console.pid")
        let links = home.appendingPathComponent("links.txt")
        let browser = try Browser(
            before:
                "USER=bob '\(CLI.binary.path)' console --listen 127.0.0.1:8080 > '\(out.path)' 2>&1 & echo $! > '\(pidFile.path)'",
            environment: env, links: links)
        defer {
            // The console first: it holds the descriptors by which Process sees the browser end.
            if let pid = (try? String(contentsOf: pidFile, encoding: .utf8)).flatMap({
                Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }) {
                kill(pid, SIGTERM)
            }
            browser.close()
        }
        // The namespace has loopback and nothing else.
        let interfaces = try String(contentsOf: links, encoding: .utf8).split(separator: "\n")
        #expect(interfaces.count == 1 && interfaces[0].contains(": lo: "), "\(interfaces)")

        func printed(_ prefix: String) throws -> String {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
                if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                    return String(line.dropFirst(prefix.count))
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            throw BrowserError(text: "the console printed no \(prefix)")
        }
        _ = try printed("console: listening on ")
        let origin = "http://127.0.0.1:8080"

        // Sign in with the token the console printed.
        try browser.open(origin + "/")
        #expect(try browser.evaluate("location.pathname").stringValue == "/signin")
        try browser.screenshot("1-sign-in")
        try browser.evaluate(
            "document.getElementById('token').value = \(JSONValue.string(try printed("sign-in token (one use): ")).canonicalString)"
        )
        try browser.submit("#signin")
        #expect(try browser.text("#principal") == "signed in as bob")
        #expect(try browser.text("#runs").contains(recorded))
        try browser.screenshot("2-runs")

        // A run: its styles and script load from the console under its policy; an event expands.
        try browser.open(origin + "/runs/\(recorded)")
        #expect(try browser.text("#verification").hasPrefix("Verified: \(recorded): intact"))
        #expect(
            try browser.evaluate("getComputedStyle(document.getElementById('verification')).color").stringValue
                == "rgb(255, 255, 255)")
        #expect(try browser.evaluate("document.querySelector('button[data-expand]').hidden").boolValue == false)
        let decision = "document.querySelector('li[data-type=\"policy.decision\"] > details')"
        #expect(try browser.evaluate("\(decision).open").boolValue == false)
        try browser.evaluate("\(decision).querySelector('summary').click()")
        #expect(try browser.evaluate("\(decision).open").boolValue == true)
        // Its content is fetched from the console as it opens.
        let deadline = Date().addingTimeInterval(60)
        while try browser.evaluate("\(decision).getAttribute('data-state')").stringValue != "open", Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let opened = try browser.evaluate("\(decision).innerText").stringValue ?? ""
        #expect(opened.contains("decision") && opened.contains("allow"), "\(opened)")
        try browser.screenshot("3-run-event-expanded")
        // Expand all: the page with every content replaces the timeline, every event open.
        try browser.evaluate("document.querySelector('button[data-expand=\"all\"]').click()")
        // Done when the button is enabled again and every event is open (the event opened above
        // already holds stored contents, so their count alone does not say the page was fetched).
        let expandDeadline = Date().addingTimeInterval(60)
        let stored = "document.querySelectorAll('ol.timeline details.stored').length"
        let expanded =
            "!document.querySelector('button[data-expand=\"all\"]').disabled && "
            + "Array.from(document.querySelectorAll('ol.timeline > li > details')).every(d => d.open)"
        while try browser.evaluate(expanded).boolValue != true, Date() < expandDeadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(try browser.evaluate(expanded).boolValue == true)
        #expect((try browser.evaluate(stored).integerValue ?? 0) > 0)

        // Approve the waiting run's call.
        try browser.open(origin + "/approvals")
        #expect(try browser.text("#request-\(id)").contains("sql.select"))
        try browser.screenshot("4-approvals")
        try browser.evaluate(
            "document.querySelector('#request-\(id) textarea[name=reason]').value = 'checked in the browser'")
        try browser.submit("#request-\(id) button.approve")
        #expect(try browser.text("#notice").contains("approved \(id)"))
        let result = run.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let approvedRun = try scenario.runID(result)
        let granted = try #require(try scenario.events(approvedRun, "approval.granted").first)
        #expect(granted["approver"]?.stringValue == "bob")
        #expect(granted["reason"]?.stringValue == "checked in the browser")
        try browser.screenshot("5-approved")

        // Record a verdict.
        try browser.open(origin + "/runs/\(recorded)")
        try browser.evaluate(
            "document.getElementById('verdict-ok').checked = true; document.getElementById('verdict-note').value = 'explained'"
        )
        try browser.submit("#verdict-submit")
        #expect(try browser.text("#notice").hasPrefix("Verdict recorded"))
        #expect(try browser.text("#verdicts").contains("ok by bob"))
        try browser.screenshot("6-verdict")

        // Compare: both timelines side by side, aligned by step, in lanes.
        try browser.open(origin + "/compare?a=\(recorded)&b=\(approvedRun)")
        #expect((try browser.evaluate("document.querySelectorAll('#steps tbody tr').length").integerValue ?? 0) >= 2)
        #expect(
            try browser.evaluate(
                "document.querySelector('#step-1 td:nth-child(2) li.lane-model') !== null && document.querySelector('#step-1 td:nth-child(3) li.lane-model') !== null"
            ).boolValue == true)
        #expect(try browser.evaluate("document.querySelectorAll('#steps tr.diff-only').length").integerValue ?? 0 > 0)
        try browser.screenshot("8-compare")

        // The report opens as a file, events expand without a script.
        try browser.open(report.absoluteString)
        #expect(try browser.text("#verification").hasPrefix("Verified: \(recorded)"))
        #expect(
            try browser.evaluate("getComputedStyle(document.getElementById('verification')).color").stringValue
                == "rgb(255, 255, 255)")
        try browser.evaluate("document.querySelector('li[data-type=\"tool.executed\"] summary').click()")
        #expect(
            try browser.evaluate("document.querySelector('li[data-type=\"tool.executed\"] > details').open").boolValue
                == true)
        try browser.screenshot("7-report")

        // Nothing was fetched but the console's own pages and assets (and the report file); the
        // browser's own `data:` images (a date field's icon) are not fetches.
        let urls = browser.requestedURLs
        #expect(urls.contains(origin + "/assets/console.css"))
        #expect(urls.contains(origin + "/assets/console.js"))
        for url in urls {
            let allowed = [origin + "/", report.absoluteString, "about:blank", "data:"].contains { url.hasPrefix($0) }
            #expect(allowed, "\(url)")
        }
        #expect(!browser.logMessages.contains { $0.contains("Content Security Policy") }, "\(browser.logMessages)")
    }
}
