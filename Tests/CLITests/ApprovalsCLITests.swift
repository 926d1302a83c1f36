import AirlockCore
import Foundation
import Testing

/// Approvals by another person, through the built binary: a run started as `ana` waits on the
/// home's approval store while `airlock approvals` (a second process, as `bob` or as `ana`)
/// lists, shows, approves or denies; then `trace show` and `replay` of each kind of answer.
@Suite("airlock approvals (CLI)", .serialized)
final class ApprovalsCLITests {
    let home: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }

    init() throws {
        home = try SampleSite.make("airlock-approvals-home")
    }

    deinit {
        try? FileManager.default.removeItem(at: home)
    }

    /// How long a test waits for a condition that should hold within a second or two.
    static let patience: TimeInterval = 60

    func file(_ name: String, _ text: String) throws -> String {
        let url = home.appendingPathComponent("\(UUID().uuidString.prefix(6))-\(name)")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// dataset-report with its shipped policy (or `policy`), waiting `timeout` seconds for an
    /// approval. `max_rows` above 100 asks (`approval.large-extract`).
    func workflow(timeout: Int = 120, policy: String? = nil) throws -> String {
        let shipped = SampleSite.root.appendingPathComponent("manifests/workflows/dataset-report.yaml")
        var text = try String(contentsOf: shipped, encoding: .utf8)
        let policyPath = policy ?? SampleSite.root.appendingPathComponent("manifests/policies/workflows.yaml").path
        text = text.replacingOccurrences(of: "policy: ../policies/workflows.yaml", with: "policy: \(policyPath)")
        text = text.replacingOccurrences(
            of: "approval:\n  mode: ask", with: "approval:\n  mode: ask\n  timeout: \(timeout)")
        #expect(text.contains("timeout: \(timeout)"))
        return try file("workflow.yaml", text)
    }

    /// The shipped policy with `approval.large-extract` requiring an approver other than the principal.
    func separatingPolicy() throws -> String {
        let shipped = SampleSite.root.appendingPathComponent("manifests/policies/workflows.yaml")
        let text = try String(contentsOf: shipped, encoding: .utf8).replacingOccurrences(
            of: "  - id: approval.large-extract\n    effect: require_approval\n",
            with:
                "  - id: approval.large-extract\n    effect: require_approval\n    approval: {separate_from_principal: true}\n"
        )
        #expect(text.contains("separate_from_principal"))
        return try file("policy.yaml", text)
    }

    /// A model that proposes the large query once per call given, one step each, then answers.
    func model(calls: Int = 1) throws -> String {
        let call =
            "  - tool_calls: [{name: sql.select, arguments: {query: \"SELECT name FROM sites\", max_rows: 200}}]\n"
        return try file("model.yaml", "responses:\n" + String(repeating: call, count: calls) + "  - content: Done.\n")
    }

    /// `airlock run` (or another command, through `launcher`: a program that starts the binary with
    /// the arguments after its own) in the background as `user`, with no terminal.
    final class BackgroundRun {
        let process = Process()
        let out = Pipe()
        let err = Pipe()

        init(_ arguments: [String], environment: [String: String], launcher: [String] = []) throws {
            CLI.prepare(process, arguments, environment: environment, launcher: launcher)
            process.standardOutput = out
            process.standardError = err
            try process.run()
        }

        /// Waits for the run to end and returns what it printed.
        func finish() -> CLIResult {
            nonisolated(unsafe) var errData = Data()
            let group = DispatchGroup()
            group.enter()
            let errors = err.fileHandleForReading
            DispatchQueue.global().async {
                errData = errors.readDataToEndOfFile()
                group.leave()
            }
            let outData = out.fileHandleForReading.readDataToEndOfFile()
            group.wait()
            process.waitUntilExit()
            return CLIResult(
                status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                stderr: String(decoding: errData, as: UTF8.self))
        }
    }

    func start(_ workflow: String, model: String, user: String = "ana", extra: [String] = []) throws -> BackgroundRun {
        try BackgroundRun(
            ["run", workflow, "--param", "question=q", "--model", "script:" + model] + extra,
            environment: env.merging(["USER": user]) { $1 })
    }

    func approvals(_ arguments: [String], user: String) throws -> CLIResult {
        try CLI.run(["approvals"] + arguments, environment: env.merging(["USER": user]) { $1 })
    }

    /// The pending requests, as `approvals list --json` prints them.
    func pending() throws -> [JSONValue] {
        let list = try approvals(["list", "--json"], user: "carol")
        try #require(list.status == 0, "\(list.stderr)")
        return try JSONParser().parse(list.stdout).arrayValue ?? []
    }

    /// Waits for the `count`-th pending request of `run` (ids differ per request) and returns its id.
    func waitForRequest(of run: BackgroundRun, excluding seen: Set<String> = []) throws -> String {
        try waitForRequest(of: BackgroundRunView(process: run.process), excluding: seen)
    }

    /// The process a test waits on.
    struct BackgroundRunView {
        var process: Process
    }

    func waitForRequest(of run: BackgroundRunView, excluding seen: Set<String> = []) throws -> String {
        let deadline = Date().addingTimeInterval(Self.patience)
        while Date() < deadline {
            if let id = try pending().compactMap({ $0["id"]?.stringValue }).first(where: { !seen.contains($0) }) {
                return id
            }
            try #require(run.process.isRunning, "the run ended without asking")
            Thread.sleep(forTimeInterval: 0.1)
        }
        Issue.record("no approval request appeared within \(Self.patience) s")
        run.process.terminate()
        throw CancellationError()
    }

    func runID(_ result: CLIResult) throws -> String {
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("run: ") })
        return String(line.dropFirst(5).prefix { $0 != " " })
    }

    func expectReplayIdentical(_ runID: String) throws {
        let replay = try CLI.run(["replay", runID], environment: env)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.contains("replay identical"), "\(replay.stdout)")
    }

    /// The run's events of `type`, payloads as JSON.
    func events(_ runID: String, _ type: String) throws -> [JSONValue] {
        let show = try CLI.run(["trace", "show", runID, "--json"], environment: env)
        try #require(show.status == 0, "\(show.stderr)")
        return (try JSONParser().parse(show.stdout).arrayValue ?? []).filter { $0["type"]?.stringValue == type }
            .compactMap { $0["payload"] }
    }

    @Test("bob approves from a second process what ana's run asks; show binds it to the exact call")
    func anotherPersonApproves() throws {
        let run = try start(try workflow(), model: try model())
        let id = try waitForRequest(of: run)

        let show = try approvals(["show", id], user: "bob")
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("tool: sql.select"))
        #expect(
            show.stdout.contains(#"arguments: {"max_rows":200,"query":"SELECT name FROM sites"}"#), "\(show.stdout)")
        let json = try JSONParser().parse(try approvals(["show", id, "--json"], user: "bob").stdout)
        let digest = try #require(json["arguments_sha256"]?.stringValue)
        #expect(show.stdout.contains("arguments sha256: \(digest)"))
        #expect(json["principal"]?.stringValue == "ana")
        #expect(json["state"]?.stringValue == "pending")
        #expect(show.stdout.contains("scope if approved: once"))

        let approve = try approvals(["approve", id, "--reason", "checked the query"], user: "bob")
        #expect(approve.status == 0, "\(approve.stderr)")
        #expect(approve.stdout.contains("approved \(id)"))
        let result = run.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("(request \(id)); waiting up to 120 s"), "\(result.stderr)")
        #expect(result.stderr.contains("approval granted by bob"))

        // Approving twice: the request is closed, nothing changes.
        let again = try approvals(["approve", id], user: "bob")
        #expect(again.status == 1)
        #expect(again.stderr.contains("is no longer pending: it was granted by bob"), "\(again.stderr)")

        let runID = try runID(result)
        let granted = try #require(try events(runID, "approval.granted").first)
        #expect(granted["approver"]?.stringValue == "bob")
        #expect(granted["identity"]?.stringValue == "bob")
        #expect(granted["source"]?.stringValue == "store")
        #expect(granted["scope"]?.stringValue == "once")
        #expect(granted["reason"]?.stringValue == "checked the query")
        #expect(granted["arguments_sha256"]?.stringValue == digest)
        let requested = try #require(try events(runID, "approval.requested").first)
        #expect(requested["request_id"]?.stringValue == id)
        #expect(requested["timeout_seconds"]?.doubleValue == 120)
        let text = try CLI.run(["trace", "show", runID], environment: env)
        #expect(text.stdout.contains("by bob (store, scope once)"), "\(text.stdout)")
        #expect(text.stdout.contains("checked the query"))
        try expectReplayIdentical(runID)
    }

    @Test("a denial needs a reason; the reason reaches the trace and the model; unknown ids are 66")
    func anotherPersonDenies() throws {
        let run = try start(try workflow(), model: try model())
        let id = try waitForRequest(of: run)

        let noReason = try approvals(["deny", id], user: "bob")
        #expect(noReason.status == 64)
        #expect(noReason.stderr.contains("--reason"), "\(noReason.stderr)")
        let emptyReason = try approvals(["deny", id, "--reason", " "], user: "bob")
        #expect(emptyReason.status == 64)
        let badScope = try approvals(["approve", id, "--scope", "forever"], user: "bob")
        #expect(badScope.status == 64)
        #expect(badScope.stderr.contains("--scope forever: must be once or run"))
        let unknown = try approvals(["approve", "000000000000"], user: "bob")
        #expect(unknown.status == 66)
        #expect(unknown.stderr.contains("no approval request 000000000000"))
        #expect(try approvals(["show", "000000000000"], user: "bob").status == 66)
        #expect(try pending().count == 1, "the bad inputs changed nothing")

        let deny = try approvals(["deny", id, "--reason", "200 rows is too many; use 50"], user: "bob")
        #expect(deny.status == 0, "\(deny.stderr)")
        let result = run.finish()
        #expect(result.stderr.contains("approval refused by bob"), "\(result.stderr)")
        let denyAgain = try approvals(["deny", id, "--reason", "again"], user: "bob")
        #expect(denyAgain.status == 1)

        let runID = try runID(result)
        let denied = try #require(try events(runID, "approval.denied").first)
        #expect(denied["approver"]?.stringValue == "bob")
        #expect(denied["source"]?.stringValue == "store")
        #expect(denied["reason"]?.stringValue == "200 rows is too many; use 50")
        #expect(denied["scope"] == nil)
        let told = try #require(try events(runID, "tool.result").first?["content"]?.stringValue)
        #expect(told.contains("200 rows is too many; use 50"), "\(told)")
        #expect(try events(runID, "tool.executed").isEmpty)
        let text = try CLI.run(["trace", "show", runID], environment: env)
        #expect(text.stdout.contains("by bob (store)"), "\(text.stdout)")
        try expectReplayIdentical(runID)

        let all = try approvals(["list", "--all"], user: "bob")
        #expect(all.stdout.contains(id) && all.stdout.contains("denied"), "\(all.stdout)")
    }

    @Test("no answer within approval.timeout: denied, timed out after N s; the request expired")
    func noAnswerTimesOut() throws {
        let run = try start(try workflow(timeout: 1), model: try model())
        let result = run.finish()
        #expect(result.stderr.contains("timed out after 1 s"), "\(result.stderr)")
        let runID = try runID(result)
        let denied = try #require(try events(runID, "approval.denied").first)
        #expect(denied["source"]?.stringValue == "timeout")
        #expect(denied["approver"]?.stringValue == "timeout")
        #expect(denied["reason"]?.stringValue == "timed out after 1 s")
        let requested = try #require(try events(runID, "approval.requested").first)
        let id = try #require(requested["request_id"]?.stringValue)
        let show = try JSONParser().parse(try approvals(["show", id, "--json"], user: "bob").stdout)
        #expect(show["state"]?.stringValue == "expired")
        let late = try approvals(["approve", id], user: "bob")
        #expect(late.status == 1)
        #expect(late.stderr.contains("it was expired by timeout: timed out after 1 s"), "\(late.stderr)")
        try expectReplayIdentical(runID)
    }

    @Test("separation of duties: ana cannot approve her own run's call (77), not even pre-approved; bob can")
    func separationOfDuties() throws {
        let policy = try separatingPolicy()
        let run = try start(
            try workflow(policy: policy), model: try model(), extra: ["--approve", "sql.select"])
        let id = try waitForRequest(of: run)
        let show = try approvals(["show", id], user: "bob")
        #expect(show.stdout.contains("approver: someone other than ana"), "\(show.stdout)")

        let selfApproval = try approvals(["approve", id, "--reason", "mine"], user: "ana")
        #expect(selfApproval.status == 77)
        #expect(selfApproval.stderr.contains("requires someone other than the run's principal (ana)"))
        #expect(try pending().compactMap { $0["id"]?.stringValue } == [id], "still pending for someone else")
        // Ana may still refuse it; here bob grants it.
        let approve = try approvals(["approve", id, "--reason", "second pair of eyes"], user: "bob")
        #expect(approve.status == 0, "\(approve.stderr)")
        let result = run.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("by someone other than ana"), "\(result.stderr)")

        let runID = try runID(result)
        let requested = try #require(try events(runID, "approval.requested").first)
        #expect(requested["separate_from_principal"]?.boolValue == true)
        let granted = try #require(try events(runID, "approval.granted").first)
        #expect(granted["identity"]?.stringValue == "bob")
        #expect(granted["source"]?.stringValue == "store", "the pre-approval did not stand in for bob")
        let after = try events(runID, "policy.decision").first { $0["after_approval"]?.boolValue == true }
        #expect(after?["decision"]?.stringValue == "allow")
        try expectReplayIdentical(runID)
    }

    /// An identical call after an approved one that ran is answered from the record
    /// (docs/workflows.md, repeated calls): it is not asked about again whatever the scope, and
    /// the tool runs once. The scope is recorded as given.
    @Test("an identical call after an approved one is answered from the record, whatever the scope")
    func scopeOnceAndRun() throws {
        let flow = try workflow()
        for scope in ["once", "run"] {
            let run = try start(flow, model: try model(calls: 2))
            let first = try waitForRequest(of: run)
            let approve = try approvals(["approve", first, "--scope", scope], user: "bob")
            #expect(approve.status == 0, "\(approve.stderr)")
            let result = run.finish()
            #expect(result.status == 0, "\(result.stderr)")
            let runID = try runID(result)
            #expect(try events(runID, "approval.requested").count == 1, "scope \(scope)")
            #expect(try events(runID, "approval.granted").first?["scope"]?.stringValue == scope)
            #expect(try events(runID, "tool.executed").count == 1)
            let results = try events(runID, "tool.result")
            #expect(results.last?["repeat_of"] != nil, "\(results)")
            try expectReplayIdentical(runID)
        }
    }

    @Test("approval.timeout and approval settings on rules are validated with their pointer and line")
    func settingsAreValidated() throws {
        let text = try String(contentsOfFile: try workflow(), encoding: .utf8).replacingOccurrences(
            of: "timeout: 120", with: "timeout: 0")
        let path = try file("bad-workflow.yaml", text)
        let run = try CLI.run(
            ["run", path, "--param", "question=q", "--model", "script:" + (try model())], environment: env)
        #expect(run.status == 65)
        #expect(run.stderr.contains("/approval/timeout (line"), "\(run.stderr)")
        #expect(run.stderr.contains("must be a number from 1 to 86400"))

        let policy = try file(
            "bad-policy.yaml",
            """
            airlock_policy: 1
            name: bad
            rules:
              - id: a
                effect: permit
                approval: {separate_from_principal: true}
                reason: x
                tags: [maestro:L6]
              - id: b
                effect: require_approval
                approval: {separate_from_principal: "yes", who: bob}
                reason: y
                tags: [maestro:L6]
            """)
        let lint = try CLI.run(["policy", "lint", policy], environment: env)
        #expect(lint.status == 65)
        #expect(lint.stdout.contains("/rules/0/approval") || lint.stderr.contains("/rules/0/approval"))
        let output = lint.stdout + lint.stderr
        #expect(output.contains("only a require_approval rule takes approval settings"), "\(output)")
        #expect(output.contains("/rules/1/approval/separate_from_principal"), "\(output)")
        #expect(output.contains("/rules/1/approval/who"), "\(output)")
    }

    /// `airlock run` on a pseudo-terminal (util-linux script(1)), its input kept open for `typed`.
    final class TerminalRun {
        let process = Process()
        let output = Pipe()
        let input = Pipe()

        init(_ arguments: [String], environment: [String: String]) throws {
            let command = ([CLI.binary.path] + arguments)
                .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
            process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            process.arguments = ["-q", "-e", "-c", command, "/dev/null"]
            process.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": NSTemporaryDirectory()].merging(
                environment
            ) { $1 }
            process.standardOutput = output
            process.standardError = output
            process.standardInput = input
            try process.run()
        }

        func type(_ text: String) { input.fileHandleForWriting.write(Data(text.utf8)) }

        /// Waits for the run to end; everything the terminal showed, and the exit status.
        func finish() -> (status: Int32, text: String) {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            try? input.fileHandleForWriting.close()
            // The terminal turns each \n into \r\n, and the spinner clears its line with \r ESC[2K.
            let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\u{1B}[2K", with: "")
                .replacingOccurrences(of: "\r", with: "")
            return (process.terminationStatus, text)
        }
    }

    @Test("on a terminal, bob's answer from the store wins the race and the prompt is withdrawn")
    func theStoreAnswersWhileTheTerminalAsks() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            Issue.record("util-linux script(1) is needed to give airlock run a terminal")
            return
        }
        let run = try TerminalRun(
            ["run", try workflow(), "--param", "question=q", "--model", "script:" + (try model())],
            environment: env.merging(["USER": "ana"]) { $1 })
        let id = try waitForRequest(of: BackgroundRunView(process: run.process))
        #expect(try approvals(["approve", id, "--reason", "fine by me"], user: "bob").status == 0)
        let (status, text) = run.finish()
        #expect(status == 0, "\(text)")
        #expect(text.contains("approve this exact call? [y = this call once, r = also identical calls"), "\(text)")
        #expect(text.contains("request \(id): granted (scope once) by bob: fine by me"), "\(text)")
        try expectReplayIdentical(try runID(CLIResult(status: status, stdout: text, stderr: "")))
    }

    @Test(
        "on a terminal, ana answers r: the store request is closed as hers, the identical call answered from the record"
    )
    func theTerminalAnswersForTheRun() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            Issue.record("util-linux script(1) is needed to give airlock run a terminal")
            return
        }
        let run = try TerminalRun(
            ["run", try workflow(), "--param", "question=q", "--model", "script:" + (try model(calls: 2))],
            environment: env.merging(["USER": "ana"]) { $1 })
        let id = try waitForRequest(of: BackgroundRunView(process: run.process))
        run.type("r\n")
        let (status, text) = run.finish()
        #expect(status == 0, "\(text)")
        let record = try JSONParser().parse(try approvals(["show", id, "--json"], user: "bob").stdout)
        #expect(record["state"]?.stringValue == "granted")
        #expect(record["answer"]?["source"]?.stringValue == "terminal")
        #expect(record["answer"]?["approver"]?.stringValue == "ana")
        #expect(record["answer"]?["scope"]?.stringValue == "run")
        #expect(try approvals(["approve", id], user: "bob").status == 1, "the terminal's answer stands")
        let runID = try runID(CLIResult(status: status, stdout: text, stderr: ""))
        #expect(try events(runID, "approval.requested").count == 1)
        let granted = try #require(try events(runID, "approval.granted").first)
        #expect(granted["approver"]?.stringValue == "ana@tty")
        #expect(granted["source"]?.stringValue == "terminal")
        #expect(granted["scope"]?.stringValue == "run")
        #expect(try events(runID, "tool.executed").count == 1)
        #expect(try events(runID, "tool.result").last?["repeat_of"] != nil)
        try expectReplayIdentical(runID)
    }
}
