import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock run` ends honestly, through the built binary: Ctrl-C on a real terminal while the
/// model generates or a tool runs ends the run `cancelled` (130) with its trace intact and
/// replaying identically; a second Ctrl-C quits at once; SIGTERM is 143; the wall budget bounds a
/// slow model; a reply cut at the token limit is `model_error`; a repeated call is answered
/// from the record and a further repeat ends the run `repeating` (5).
@Suite("honest runs: cancellation and hard limits (CLI)", .serialized)
final class HonestRunCLITests {
    let home: URL
    let scratch: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path, "USER": "ana"] }

    init() throws {
        home = try SampleSite.make("airlock-honest-home")
        scratch = try CLI.temporaryDirectory("airlock-honest-scratch")
        try FileManager.default.setAttributes([.posixPermissions: 0o711], ofItemAtPath: scratch.path)
    }

    deinit {
        try? FileManager.default.removeItem(at: home)
        try? FileManager.default.removeItem(at: scratch)
    }

    func file(_ name: String, _ text: String, mode: Int = 0o644) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        return url.path
    }

    func run(_ arguments: [String]) throws -> CLIResult { try CLI.run(arguments, environment: env) }

    var logTriage: String { SampleSite.root.appendingPathComponent("manifests/workflows/log-triage.yaml").path }
    var datasetReport: String { SampleSite.root.appendingPathComponent("manifests/workflows/dataset-report.yaml").path }

    /// The shipped log-triage workflow with its text edited, written beside the shipped policy's path.
    func logTriage(editing edit: (String) -> String) throws -> String {
        let text = try String(contentsOfFile: logTriage, encoding: .utf8)
        let policy = SampleSite.root.appendingPathComponent("manifests/policies/workflows.yaml").path
        return try file(
            "log-triage-\(UUID().uuidString.prefix(6)).yaml",
            edit(text).replacingOccurrences(of: "policy: ../policies/workflows.yaml", with: "policy: \(policy)"))
    }

    func script(_ text: String) throws -> String {
        "script:" + (try file("script-\(UUID().uuidString.prefix(6)).yaml", text))
    }

    /// Registers `slow.sleep` (marks `started` in the workspace, then sleeps 30 s; its manifest
    /// allows 60) and returns a workflow offering it, with `budgets` (a YAML flow mapping).
    func slowToolWorkflow(budgets: String = "{wall_seconds: 300}") throws -> String {
        let script = SlowTool.script(seconds: 30)
        _ = try file("sleep.sh", script, mode: 0o755)
        let manifest = try file("slow.sleep.yaml", SlowTool.manifest(script: script))
        let added = try run(["tools", "add", manifest])
        try #require(added.status == 0, "\(added.stderr)")
        _ = try file("slow-policy.yaml", SlowTool.policy)
        return try file(
            "slow-\(UUID().uuidString.prefix(6)).yaml", SlowTool.workflow(policy: "slow-policy.yaml", budgets: budgets))
    }

    /// A workspace directory the sandbox's user can enter.
    func workspace() throws -> URL {
        let url = scratch.appendingPathComponent("workspace-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return url
    }

    /// The run id `airlock run` printed (`run: ID (…)`).
    func runID(_ output: String) throws -> String {
        let line = try #require(
            output.split(whereSeparator: \.isNewline).first { $0.hasPrefix("run: ") }, "no run line in \(output)")
        return String(line.dropFirst(5).prefix { $0 != " " })
    }

    /// The run's events as `trace show --json` gives them.
    func events(_ runID: String) throws -> [JSONValue] {
        let show = try run(["trace", "show", runID, "--json"])
        try #require(show.status == 0, "\(show.stderr)")
        return try JSONParser().parse(show.stdout).arrayValue ?? []
    }

    /// `trace list`'s status for the run.
    func listedStatus(_ runID: String) throws -> String? {
        let list = try JSONParser().parse(try run(["trace", "list", "--json"]).stdout)
        return list.arrayValue?.first { $0["run"]?.stringValue == runID }?["status"]?.stringValue
    }

    /// Verified intact, listed with `status`, and replayed identically.
    func expectFinished(_ runID: String, _ status: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let verify = try run(["trace", "verify", runID])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)", sourceLocation: sourceLocation)
        #expect(verify.stdout.contains("\(runID): intact"), "\(verify.stdout)", sourceLocation: sourceLocation)
        #expect(try listedStatus(runID) == "finished:\(status)", sourceLocation: sourceLocation)
        let replay = try run(["replay", runID])
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)", sourceLocation: sourceLocation)
        #expect(replay.stdout.contains("replay identical"), "\(replay.stdout)", sourceLocation: sourceLocation)
    }

    /// After the last time the cursor was hidden, it is shown again and the line cleared.
    func expectTerminalRestored(_ output: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let hide = "\u{1B}[?25l"
        let show = "\u{1B}[?25h"
        let tail = output.components(separatedBy: hide).last ?? output
        #expect(
            output.contains(hide), "the spinner never ran: \(output.debugDescription)", sourceLocation: sourceLocation)
        #expect(tail.contains("\r\u{1B}[2K" + show), "\(tail.debugDescription)", sourceLocation: sourceLocation)
    }

    // MARK: - Cancellation on a terminal

    @Test func ctrlCWhileTheModelGeneratesCancelsTheRun() throws {
        let server = try ChatTestServer(replies: [.completion(content: "too late", delaySeconds: 60)])
        defer { server.stop() }
        let session = try TerminalSession.run(
            ["run", logTriage, "--model", "unix:" + server.path], environment: env,
            steps: [.init(text: "the model is generating", keys: "\u{03}")])
        #expect(!session.missed, "\(session.output.debugDescription)")
        #expect(session.status == 130, "\(session.output)")
        #expect(session.output.contains("SIGINT: cancelling run"), "\(session.output)")
        #expect(
            session.output.contains(
                "no answer: cancelled: the run was cancelled while the model was generating (step 1): interrupted by SIGINT (Ctrl-C)"
            ), "\(session.output)")
        expectTerminalRestored(session.output)
        let id = try runID(session.output)
        try expectFinished(id, "cancelled")
        let events = try events(id)
        #expect(events.map { $0["type"]?.stringValue } == ["run.started", "model.request", "error", "run.finished"])
        #expect(events[2]["payload"]?["stage"] == "cancel")
        #expect(events[2]["payload"]?["message"] == "interrupted by SIGINT (Ctrl-C)")
    }

    @Test func ctrlCWhileAToolRunsKillsItAndCancelsTheRun() throws {
        let workflow = try slowToolWorkflow()
        let workspace = try workspace()
        let model = try script("responses:\n  - tool_calls: [{name: slow.sleep, arguments: {}}]\n  - content: never\n")
        let session = try TerminalSession.run(
            ["run", workflow, "--model", model, "--workspace", workspace.path], environment: env,
            steps: [.init(file: workspace.appendingPathComponent("started").path, keys: "\u{03}")])
        #expect(!session.missed, "\(session.output)")
        #expect(session.status == 130, "\(session.output)")
        #expect(
            session.output.contains("the run was cancelled while call-1-1 (slow.sleep) ran in the sandbox"),
            "\(session.output)")
        let id = try runID(session.output)
        try expectFinished(id, "cancelled")
        let events = try events(id)
        let executed = try #require(events.first { $0["type"] == "tool.executed" }?["payload"]?["record"])
        // The tool was killed by Airlock (its pidfd), not by the terminal's SIGINT: the sandbox
        // has a session of its own.
        #expect(executed["cancelled"] == true)
        #expect(executed["termination"]?["signal"] == 9)
        #expect(!events.contains { $0["type"] == "tool.result" })
    }

    /// Ctrl-C at an approval prompt withdraws the prompt and the request and ends the run
    /// `cancelled`, signed whole.
    @Test func ctrlCAtAnApprovalPromptCancelsTheRun() throws {
        let model = try script(
            "responses:\n  - tool_calls: [{name: sql.select, arguments: {query: SELECT * FROM items, max_rows: 300}}]\n  - content: never\n"
        )
        let session = try TerminalSession.run(
            ["run", datasetReport, "--param", "question=q", "--model", model], environment: env,
            steps: [.init(text: "approve this exact call? [y = this call once", keys: "\u{03}")])
        #expect(!session.missed, "\(session.output)")
        #expect(session.status == 130, "\(session.output)")
        let list = try JSONParser().parse(try run(["trace", "list", "--json"]).stdout)
        let entry = try #require(list.arrayValue?.last { $0["workflow"] == "dataset-report" })
        #expect(entry["status"] == "finished:cancelled")
        let id = try #require(entry["run"]?.stringValue)
        let verify = try run(["trace", "verify", id])
        #expect(verify.stdout.contains("\(id): intact"), "\(verify.stdout)")
        let replay = try run(["replay", id])
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        // The request was closed, not left pending for someone to grant after the run ended.
        let requests = try JSONParser().parse(try run(["approvals", "list", "--all", "--json"]).stdout)
        let request = try #require(requests.arrayValue?.last)
        #expect(request["state"] == "expired", "\(request)")
    }

    /// When the first Ctrl-C cannot finish quickly (here: another process holds the approval
    /// store's write lock, so the request cannot be closed), a second one quits at once; the run
    /// stays verifiable, incomplete, signed through its last completed step.
    @Test func aSecondCtrlCQuitsAtOnceLeavingTheRunIncompleteButVerifiable() throws {
        let model = try script(
            "responses:\n  - tool_calls: [{name: sql.select, arguments: {query: SELECT * FROM items, max_rows: 300}}]\n  - content: never\n"
        )
        // Once the request is pending, another process takes the store's write lock and says so
        // by creating `marker`; the first Ctrl-C comes after that.
        let marker = home.appendingPathComponent("store-locked").path
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        holder.arguments = [home.appendingPathComponent("approvals.sqlite").path]
        let input = Pipe()
        let output = Pipe()
        holder.standardInput = input
        holder.standardOutput = output
        holder.standardError = FileHandle.nullDevice
        let env = self.env
        DispatchQueue.global().async {
            let deadline = Date(timeIntervalSinceNow: 60)
            while Date() < deadline {
                let list = try? CLI.run(["approvals", "list", "--json"], environment: env)
                if let list, (try? JSONParser().parse(list.stdout).arrayValue?.isEmpty) == false { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
            guard (try? holder.run()) != nil else { return }
            input.fileHandleForWriting.write(Data("BEGIN EXCLUSIVE;\nSELECT 'locked';\n".utf8))
            var seen = Data()
            while !String(decoding: seen, as: UTF8.self).contains("locked") {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { return }
                seen.append(chunk)
            }
            _ = FileManager.default.createFile(atPath: marker, contents: nil)
        }
        let session = try TerminalSession.run(
            ["run", datasetReport, "--param", "question=q", "--model", model], environment: env,
            steps: [
                .init(text: "approve this exact call? [y = this call once", keys: ""),
                .init(text: nil, file: marker, keys: "\u{03}"),
                .init(text: "again quits at once", keys: "\u{03}"),
            ])
        input.fileHandleForWriting.write(Data("ROLLBACK;\n.quit\n".utf8))
        if holder.isRunning { holder.waitUntilExit() }
        #expect(!session.missed, "\(session.output)")
        #expect(session.status == 130, "\(session.output)")
        #expect(session.output.contains("is left incomplete, signed through its last step"), "\(session.output)")
        // Quitting at once still leaves the terminal with its cursor shown.
        let afterSecond = session.output.components(separatedBy: "again quits at once").last ?? ""
        #expect(afterSecond.contains("\u{1B}[?25h"), "\(afterSecond.debugDescription)")
        let list = try JSONParser().parse(try run(["trace", "list", "--json"]).stdout)
        let entry = try #require(list.arrayValue?.last { $0["workflow"] == "dataset-report" })
        #expect(entry["status"] == "incomplete")
        let id = try #require(entry["run"]?.stringValue)
        let verify = try run(["trace", "verify", id])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("\(id): incomplete"), "\(verify.stdout)")
    }

    @Test func sigtermCancelsTheRunWith143() throws {
        let server = try ChatTestServer(replies: [.completion(content: "too late", delaySeconds: 60)])
        defer { server.stop() }
        let result = try CLI.run(
            ["run", logTriage, "--model", "unix:" + server.path], environment: env, signal: SIGTERM,
            when: "asking the model")
        #expect(result.status == 143, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("no answer: cancelled:"), "\(result.stdout)")
        #expect(result.stdout.contains("terminated by SIGTERM"), "\(result.stdout)")
        try expectFinished(try runID(result.stdout), "cancelled")
    }

    // MARK: - Hard limits

    @Test func aWallBudgetShorterThanTheModelsReplyEndsTheRun() throws {
        let server = try ChatTestServer(replies: [.completion(content: "too late", delaySeconds: 60)])
        defer { server.stop() }
        let workflow = try logTriage { $0.replacingOccurrences(of: "wall_seconds: 300", with: "wall_seconds: 2") }
        let result = try run(["run", workflow, "--model", "unix:" + server.path, "--json"])
        #expect(result.status == 3, "\(result.stderr)")
        let outcome = try JSONParser().parse(result.stdout)
        #expect(outcome["status"] == "budget_exhausted")
        #expect(
            outcome["message"] == "the wall-time budget (2.0 s) ran out while the model was generating (step 1)",
            "\(result.stdout)")
        let id = try #require(outcome["run_id"]?.stringValue)
        try expectFinished(id, "budget_exhausted")
        // The run took about its budget, not the model's 60 s (a generous bound, no timing claim).
        let elapsed = Double(try events(id).last?["offset_ns"]?.integerValue ?? 0) / 1e9
        #expect(elapsed >= 2 && elapsed < 30, "recorded \(elapsed) s")
    }

    @Test func aToolGetsWhatIsLeftOfTheWallBudget() throws {
        let workflow = try slowToolWorkflow(budgets: "{wall_seconds: 2}")
        let model = try script("responses:\n  - tool_calls: [{name: slow.sleep, arguments: {}}]\n  - content: never\n")
        let result = try run(["run", workflow, "--model", model, "--workspace", try workspace().path, "--json"])
        #expect(result.status == 3, "\(result.stderr)")
        let outcome = try JSONParser().parse(result.stdout)
        #expect(outcome["message"] == "the wall-time budget (2.0 s) ran out while call-1-1 (slow.sleep) ran")
        let id = try #require(outcome["run_id"]?.stringValue)
        try expectFinished(id, "budget_exhausted")
        let record = try #require(try events(id).first { $0["type"] == "tool.executed" }?["payload"]?["record"])
        #expect(record["timedOut"] == true)
        #expect((record["confinement"]?["limits"]?["wallTimeSeconds"]?.doubleValue ?? 60) <= 2)
    }

    @Test func aReplyCutAtTheTokenLimitIsAModelErrorUnlessTheWorkflowAcceptsIt() throws {
        let model = try script("responses:\n  - {content: 'The errors are mostly in pay', finish_reason: length}\n")
        let cut = try run(["run", logTriage, "--model", model, "--json"])
        #expect(cut.status == 69, "\(cut.stderr)")
        let outcome = try JSONParser().parse(cut.stdout)
        #expect(outcome["status"] == "model_error")
        #expect(outcome["answer"] == .null)
        #expect(outcome["message"]?.stringValue?.contains("cut at the token limit (model.max_tokens: 1024)") == true)
        let id = try #require(outcome["run_id"]?.stringValue)
        try expectFinished(id, "model_error")
        #expect(
            try events(id).contains {
                $0["type"] == "error" && $0["payload"]?["code"] == "truncated" && $0["payload"]?["stage"] == "model"
            })

        let accepting = try logTriage {
            $0.replacingOccurrences(of: "max_tokens: 1024", with: "max_tokens: 1024\n  on_truncation: accept")
        }
        let accepted = try run(["run", accepting, "--model", model, "--json"])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        let answered = try JSONParser().parse(accepted.stdout)
        #expect(answered["answer"] == "The errors are mostly in pay")
        try expectFinished(try #require(answered["run_id"]?.stringValue), "succeeded")

        let bad = try logTriage {
            $0.replacingOccurrences(of: "max_tokens: 1024", with: "max_tokens: 1024\n  on_truncation: maybe")
        }
        let refused = try run(["run", bad, "--model", model])
        #expect(refused.status == 65)
        #expect(refused.stderr.contains("/model/on_truncation (line"), "\(refused.stderr)")
        #expect(refused.stderr.contains("must be one of error, accept"), "\(refused.stderr)")
    }

    @Test func aRepeatedCallIsAnsweredFromTheRecordAndAFurtherRepeatEndsTheRun() throws {
        let call = "  - tool_calls: [{name: logs.search, arguments: {pattern: ERROR}}]\n"
        // max_repeats 1: the second identical call is answered from the record, the third ends the run.
        let workflow = try logTriage {
            $0.replacingOccurrences(of: "wall_seconds: 300", with: "wall_seconds: 300\n  max_repeats: 1")
        }
        let result = try run([
            "run", workflow, "--model", try script("responses:\n" + call + call + call + "  - content: never\n"),
        ])
        #expect(result.status == 5, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("call-2-1 repeats call-1-1: answered from the record, not run again"))
        #expect(
            result.stdout.contains(
                "no answer: repeating: call-3-1 repeats call-1-1 (logs.search, the same arguments) for the 2nd time, more than budgets.max_repeats (1) allows; the run ended"
            ), "\(result.stdout)")
        let id = try runID(result.stdout)
        try expectFinished(id, "repeating")
        let events = try events(id)
        #expect(events.filter { $0["type"] == "tool.executed" }.count == 1)
        let results = events.filter { $0["type"] == "tool.result" }
        #expect(results.map { $0["payload"]?["repeat_of"] } == [nil, "call-1-1"])
        #expect(results.last?["summary"]?.stringValue?.contains("answered from the record, not run again") == true)

        // The default allows 2 repeats: the fourth identical call ends the run.
        let byDefault = try run([
            "run", logTriage, "--model",
            try script("responses:\n" + call + call + call + call + "  - content: never\n"),
            "--json", "--quiet",
        ])
        #expect(byDefault.status == 5, "\(byDefault.stdout)")
        let outcome = try JSONParser().parse(byDefault.stdout)
        #expect(outcome["status"] == "repeating")
        #expect(outcome["executed"] == 1)
        #expect(outcome["tool_calls"] == 4)
    }
}
