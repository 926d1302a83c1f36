import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock mcp serve` against a real MCP client (the Python `mcp` SDK): the session is one run
/// of the profile's workflow; an allowed call runs in the sandbox, a denied one is a tool error
/// naming the rule and its reason, one that needs approval waits on the approvals queue until
/// `airlock approvals approve` (another process) answers; the run verifies and replays identical.
@Suite("airlock mcp serve (CLI, Python mcp client)", .serialized, .enabled(if: MCPPeer.available))
final class MCPServeCLITests {
    let home: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }

    init() throws {
        home = try SampleSite.make("airlock-mcp-home")
    }

    deinit {
        try? FileManager.default.removeItem(at: home)
    }

    /// How long a test waits for a condition that should hold within a second or two.
    static let patience: TimeInterval = 60

    /// A profile `analyst` under the home: dataset-report (its shipped policy, absolute), acting
    /// for `ana`.
    func writeProfile(maxSteps: Int = 6) throws {
        let shipped = SampleSite.root.appendingPathComponent("manifests/workflows/dataset-report.yaml")
        var text = try String(contentsOf: shipped, encoding: .utf8)
        let policy = SampleSite.root.appendingPathComponent("manifests/policies/workflows.yaml").path
        text = text.replacingOccurrences(of: "policy: ../policies/workflows.yaml", with: "policy: \(policy)")
        text = text.replacingOccurrences(of: "approval:\n  mode: ask", with: "approval:\n  mode: ask\n  timeout: 120")
        try #require(text.contains("timeout: 120"))
        text = text.replacingOccurrences(of: "max_steps: 6", with: "max_steps: \(maxSteps)")
        let directory = home.appendingPathComponent("mcp")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: directory.appendingPathComponent("dataset-report.yaml"))
        let profile = """
            airlock_mcp_profile: 1
            name: analyst
            workflow: dataset-report.yaml
            principal: ana
            parameters:
              question: questions from an MCP client
            """
        try Data(profile.utf8).write(to: directory.appendingPathComponent("analyst.yaml"))
    }

    /// The Python client, started in the background on `plan`, serving profile `analyst` as `runID`.
    func startClient(_ plan: JSONValue, runID: String) throws -> ApprovalsCLITests.BackgroundRun {
        let python = try MCPPeer.python.get()
        let planURL = home.appendingPathComponent("plan-\(UUID().uuidString.prefix(6)).json")
        try Data(plan.canonicalBytes).write(to: planURL)
        return try ApprovalsCLITests.BackgroundRun(
            ["mcp", "serve", "--profile", "analyst", "--run-id", runID],
            environment: env.merging(["USER": "ana"]) { $1 },
            launcher: [python, MCPPeer.script("client.py"), planURL.path, "--"])
    }

    /// Waits for the client to end; returns its report and what it (and the server) printed on stderr.
    func finish(_ client: ApprovalsCLITests.BackgroundRun) throws -> (JSONValue, String) {
        let result = client.finish()
        try #require(result.status == 0, "client failed: \(result.stderr)")
        return (try JSONParser().parse(result.stdout), result.stderr)
    }

    /// The pending approval request's id, once the served run has asked.
    func waitForApprovalRequest(while process: Process) throws -> String {
        let deadline = Date().addingTimeInterval(Self.patience)
        while Date() < deadline {
            let list = try CLI.run(["approvals", "list", "--json"], environment: env.merging(["USER": "carol"]) { $1 })
            try #require(list.status == 0, "\(list.stderr)")
            if let id = try JSONParser().parse(list.stdout).arrayValue?.first?["id"]?.stringValue { return id }
            try #require(process.isRunning, "the session ended without asking for an approval")
            Thread.sleep(forTimeInterval: 0.1)
        }
        Issue.record("no approval request appeared within \(Self.patience) s")
        throw MCPPeer.PeerUnavailable(reason: "no approval request")
    }

    static let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func aSessionListsCallsIsJudgedApprovedRecordedAndReplaysIdentical() throws {
        try writeProfile()
        let runID = "mcp-\(UUID().uuidString.prefix(8).lowercased())"
        let plan: JSONValue = [
            "calls": [
                [
                    "tool": "sql.select", "arguments": ["query": "SELECT name FROM sites ORDER BY id", "max_rows": 5],
                    "traceparent": .string(Self.traceparent),
                ],
                [
                    "tool": "sql.select", "arguments": ["query": "SELECT 1; DELETE FROM sites", "max_rows": 5],
                    "traceparent": "not-a-traceparent",
                ],
                ["tool": "sql.select", "arguments": ["query": "SELECT name FROM sites", "max_rows": 200]],
            ]
        ]
        let client = try startClient(plan, runID: runID)
        let request = try waitForApprovalRequest(while: client.process)
        let shown = try CLI.run(["approvals", "show", request], environment: env)
        #expect(shown.stdout.contains("approval.large-extract"), "\(shown.stdout)")
        #expect(shown.stdout.contains("principal ana"), "\(shown.stdout)")
        let approved = try CLI.run(
            ["approvals", "approve", request, "--reason", "checked the query"],
            environment: env.merging(["USER": "carol"]) { $1 })
        #expect(approved.status == 0, "\(approved.stderr)")
        let (report, stderr) = try finish(client)

        #expect(report["protocol"]?.stringValue == "2025-11-25")
        #expect(report["server"]?["name"]?.stringValue == "airlock")
        let tools = report["tools"]?.arrayValue ?? []
        #expect(tools.compactMap { $0["name"]?.stringValue } == ["sql.select", "csv.summarize", "workspace.note"])
        #expect(tools.first?["inputSchema"]?["properties"]?["query"] != nil, "\(tools)")

        let results = report["results"]?.arrayValue ?? []
        try #require(results.count == 3, "\(report.prettyString)\n\(stderr)")
        // Allowed: ran in the sandbox, the warehouse's rows back.
        #expect(results[0]["isError"] == false, "\(results[0].prettyString)")
        #expect(results[0]["text"]?.stringValue?.contains("Rotterdam") == true, "\(results[0].prettyString)")
        #expect(results[0]["meta"]?["airlock/call_id"]?.stringValue == "mcp-1")
        // Denied: a tool error naming the rule and its reason.
        #expect(results[1]["isError"] == true)
        let refusal = results[1]["text"]?.stringValue ?? ""
        #expect(refusal.contains("sql.single-select"), "\(refusal)")
        #expect(refusal.contains("one read-only SELECT"), "\(refusal)")
        #expect(results[1]["structured"]?["rules"]?.arrayValue?.contains("sql.single-select") == true)
        // Needed approval, approved by carol through the queue: ran.
        #expect(results[2]["isError"] == false, "\(results[2].prettyString)")
        #expect(results[2]["text"]?.stringValue?.contains("Halifax") == true)
        #expect(stderr.contains("run \(runID) ended: succeeded"), "\(stderr)")

        // The session is one run in the trace: principal, the traceparent, the approval.
        let show = try CLI.run(["trace", "show", runID, "--json"], environment: env)
        try #require(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains(Self.traceparent))
        #expect(show.stdout.contains("traceparent_refused"))
        #expect(!show.stdout.contains("not-a-traceparent"))
        #expect(show.stdout.contains("mcp-client:stdio"))
        #expect(show.stdout.contains("\"principal\":\"ana\"") || show.stdout.contains("\"principal\": \"ana\""))
        #expect(show.stdout.contains("approval.granted"), "\(show.stdout.prefix(2000))")
        let verify = try CLI.run(["trace", "verify", runID], environment: env)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let replay = try CLI.run(["replay", runID], environment: env)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.contains("replay identical"), "\(replay.stdout)")
    }

    @Test func aClientThatElicitsIsAskedAndItsAnswerIsRecordedAndReplayed() throws {
        try writeProfile()
        let runID = "mcp-\(UUID().uuidString.prefix(8).lowercased())"
        let plan: JSONValue = [
            "calls": [
                ["tool": "sql.select", "arguments": ["query": "SELECT name FROM sites", "max_rows": 200]],
                ["tool": "sql.select", "arguments": ["query": "SELECT id FROM sites", "max_rows": 300]],
            ],
            "elicitation": ["approve": true, "reason": "looked at it"],
        ]
        let (report, stderr) = try finish(try startClient(plan, runID: runID))
        let results = report["results"]?.arrayValue ?? []
        try #require(results.count == 2, "\(report.prettyString)\n\(stderr)")
        #expect(results.allSatisfy { $0["isError"] == false }, "\(report.prettyString)")
        let asked = report["elicited"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(asked.count == 2)
        #expect(asked.first?.contains("approval.large-extract") == true, "\(asked)")
        #expect(asked.first?.contains(#""max_rows":200"#) == true, "\(asked)")
        // Answered in the client, so the queue's requests are closed with that answer.
        let all = try CLI.run(["approvals", "list", "--all", "--json"], environment: env)
        let records = try JSONParser().parse(all.stdout).arrayValue ?? []
        #expect(records.count == 2)
        #expect(records.allSatisfy { $0["state"]?.stringValue == "granted" }, "\(all.stdout)")
        let show = try CLI.run(["trace", "show", runID, "--json"], environment: env)
        #expect(show.stdout.contains("mcp-elicitation"), "\(show.stdout.prefix(3000))")
        #expect(show.stdout.contains("looked at it"))
        let replay = try CLI.run(["replay", runID], environment: env)
        #expect(replay.stdout.contains("replay identical"), "\(replay.stdout)\(replay.stderr)")
    }

    /// The run's `run.finished` payload, once the server has recorded it.
    func finished(_ runID: String) throws -> JSONValue {
        let deadline = Date().addingTimeInterval(Self.patience)
        while Date() < deadline {
            let show = try CLI.run(["trace", "show", runID, "--json"], environment: env)
            if show.status == 0, let last = try JSONParser().parse(show.stdout).arrayValue?.last,
                last["type"]?.stringValue == "run.finished", let payload = last["payload"]
            {
                return payload
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        Issue.record("run \(runID) did not finish within \(Self.patience) s")
        return .null
    }

    @Test func aClientThatLeavesWithACallWaitingEndsTheRunAsCancelled() throws {
        try writeProfile()
        let runID = "mcp-\(UUID().uuidString.prefix(8).lowercased())"
        let plan: JSONValue = [
            "calls": [["tool": "sql.select", "arguments": ["query": "SELECT name FROM sites", "max_rows": 200]]]
        ]
        let client = try startClient(plan, runID: runID)
        let request = try waitForApprovalRequest(while: client.process)
        // The client goes away (its end of the server's stdin closes) with the call waiting.
        kill(client.process.processIdentifier, SIGKILL)
        client.process.waitUntilExit()
        let payload = try finished(runID)
        #expect(payload["status"]?.stringValue == "cancelled", "\(payload)")
        #expect(payload["message"]?.stringValue?.contains("closed the session with mcp-1 unanswered") == true)
        #expect(payload["executed"] == 0)
        let shown = try CLI.run(["approvals", "show", request], environment: env)
        #expect(shown.stdout.contains("expired"), "\(shown.stdout)")
        let verify = try CLI.run(["trace", "verify", runID], environment: env)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let replay = try CLI.run(["replay", runID], environment: env)
        #expect(replay.stdout.contains("replay identical"), "\(replay.stdout)\(replay.stderr)")
    }

    @Test func aSessionPastItsStepBudgetEndsTheRunAndSaysSoToTheClient() throws {
        try writeProfile(maxSteps: 2)
        let runID = "mcp-\(UUID().uuidString.prefix(8).lowercased())"
        let call: JSONValue = ["tool": "sql.select", "arguments": ["query": "SELECT name FROM sites", "max_rows": 5]]
        let other: JSONValue = ["tool": "sql.select", "arguments": ["query": "SELECT id FROM sites", "max_rows": 5]]
        let client = try startClient(["calls": [call, other, call]], runID: runID)
        let (report, stderr) = try finish(client)
        let results = report["results"]?.arrayValue ?? []
        try #require(results.count == 3, "\(report.prettyString)\n\(stderr)")
        #expect(results[0]["isError"] == false)
        // The budget's last step: the call ran, and the run ended right after it.
        #expect(results[1]["isError"] == true)
        #expect(results[1]["text"]?.stringValue?.hasPrefix("mcp-2 ran (exit 0), then the session's run") == true)
        #expect(results[1]["text"]?.stringValue?.contains("budget_exhausted") == true, "\(results[1])")
        // After the run's end every call is refused with it.
        #expect(results[2]["isError"] == true)
        #expect(results[2]["text"]?.stringValue?.contains("has ended (budget_exhausted)") == true)
        #expect(stderr.contains("run \(runID) ended: budget_exhausted"), "\(stderr)")
        #expect(client.process.terminationStatus == 0)
        let payload = try finished(runID)
        #expect(payload["status"]?.stringValue == "budget_exhausted")
        #expect(payload["executed"] == 2)
    }

    @Test func callsSentAtOnceAreTakenOneAtATimeAndEachGetsItsOwnAnswer() throws {
        try writeProfile()
        let runID = "mcp-\(UUID().uuidString.prefix(8).lowercased())"
        let queries = ["SELECT name FROM sites WHERE id = 1", "SELECT name FROM sites WHERE id = 3"]
        let plan: JSONValue = [
            "concurrent": true,
            "calls": .array(
                queries.map { ["tool": "sql.select", "arguments": ["query": .string($0), "max_rows": 5]] }),
        ]
        let (report, stderr) = try finish(try startClient(plan, runID: runID))
        let results = report["results"]?.arrayValue ?? []
        try #require(results.count == 2, "\(report.prettyString)\n\(stderr)")
        #expect(results[0]["text"]?.stringValue?.contains("Rotterdam") == true, "\(results[0])")
        #expect(results[1]["text"]?.stringValue?.contains("Halifax") == true, "\(results[1])")
        let ids = Set(results.compactMap { $0["meta"]?["airlock/call_id"]?.stringValue })
        #expect(ids == ["mcp-1", "mcp-2"])
        let payload = try finished(runID)
        #expect(payload["executed"] == 2)
        #expect(payload["status"]?.stringValue == "succeeded")
    }

    @Test func aCallBeyondTheGatewaysBoundsIsRefusedAndRecordedAndTheSessionGoesOn() throws {
        try writeProfile()
        let runID = "mcp-\(UUID().uuidString.prefix(8).lowercased())"
        let huge = String(repeating: "x", count: 300 * 1024)
        let plan: JSONValue = [
            "calls": [
                ["tool": .string(String(repeating: "t", count: 200)), "arguments": [:]],
                ["tool": "sql.select", "arguments": ["query": .string("SELECT '\(huge)'"), "max_rows": 5]],
                ["tool": "sql.select", "arguments": ["query": "SELECT name FROM sites", "max_rows": 5]],
            ]
        ]
        let (report, stderr) = try finish(try startClient(plan, runID: runID))
        let results = report["results"]?.arrayValue ?? []
        try #require(results.count == 3, "\(report.prettyString.prefix(3000))\n\(stderr)")
        #expect(results[0]["isError"] == true)
        #expect(results[0]["text"]?.stringValue?.contains("builtin.unknown-tool") == true, "\(results[0])")
        #expect(results[1]["isError"] == true)
        #expect(results[1]["text"]?.stringValue?.contains("builtin.") == true, "\(results[1])")
        #expect(results[2]["isError"] == false, "\(results[2])")
        let show = try CLI.run(["trace", "show", runID, "--json"], environment: env)
        #expect(show.stdout.contains("withheld: the arguments were"), "\(show.stdout.prefix(3000))")
        #expect(show.stdout.contains("a tool name of 200 bytes, over 128, withheld"))
        #expect(!show.stdout.contains(String(repeating: "x", count: 1000)))
        #expect(try finished(runID)["status"]?.stringValue == "succeeded")
    }

    @Test func aMissingOrBadProfileIsRefusedBeforeAnythingIsRecorded() throws {
        let missing = try CLI.run(["mcp", "serve", "--profile", "nobody"], environment: env)
        #expect(missing.status == 66, "\(missing.stderr)")
        #expect(missing.stderr.contains("no MCP profile at"), "\(missing.stderr)")
        let directory = home.appendingPathComponent("mcp")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("airlock_mcp_profile: 1\nname: bad\nworkflow: x.yaml\npincipal: ana\n".utf8).write(
            to: directory.appendingPathComponent("bad.yaml"))
        let bad = try CLI.run(["mcp", "serve", "--profile", "bad"], environment: env)
        #expect(bad.status == 65, "\(bad.stderr)")
        #expect(bad.stderr.contains("/pincipal (line 4): unknown field"), "\(bad.stderr)")
        #expect(bad.stderr.contains(#"(root) (line 1): missing required field "principal""#), "\(bad.stderr)")
        let name = try CLI.run(["mcp", "serve", "--profile", "no such"], environment: env)
        #expect(name.status == 64, "\(name.stderr)")
        let list = try CLI.run(["trace", "list", "--json"], environment: env)
        #expect(!list.stdout.contains("mcp-client"))
    }
}

/// `airlock mcp serve --http unix:PATH`: the SDK's streamable HTTP client, over the socket.
extension MCPServeCLITests {
    @Test func overStreamableHTTPEachSessionIsARunOnAnOwnerOnlySocket() async throws {
        try writeProfile()
        let socket = home.appendingPathComponent("run/mcp/analyst.sock").path
        let server = try ApprovalsCLITests.BackgroundRun(
            ["mcp", "serve", "--profile", "analyst", "--http", "unix:" + socket],
            environment: env.merging(["USER": "ana"]) { $1 })
        defer { if server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) } }
        try await AgentFixture.waitUntil("the gateway listens") {
            FileManager.default.fileExists(atPath: socket) || !server.process.isRunning
        }
        try #require(FileManager.default.fileExists(atPath: socket), "the gateway never listened")
        // The socket is bound, then restricted to its owner (its 0700 directory guards it meanwhile).
        try await AgentFixture.waitUntil("the socket is its owner's only (0600)") {
            let mode = try FileManager.default.attributesOfItem(atPath: socket)[.posixPermissions] as? NSNumber
            return mode?.intValue == 0o600
        }
        let directory = URL(fileURLWithPath: socket).deletingLastPathComponent().path
        let directoryMode = try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? NSNumber
        #expect(directoryMode?.intValue == 0o700)

        // A request for a session that does not exist, and one without a session that is no
        // initialize, are refused without a run.
        let stray = try CLI.run(
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", socket, "-X", "POST",
                "-H", "Mcp-Session-Id: nope", "-H", "Content-Type: application/json", "-d", "{}",
                "http://localhost/mcp",
            ], executable: URL(fileURLWithPath: "/usr/bin/curl"))
        #expect(stray.stdout == "404", "\(stray.stdout)\(stray.stderr)")

        let plan: JSONValue = [
            "calls": [
                ["tool": "sql.select", "arguments": ["query": "SELECT name FROM sites ORDER BY id", "max_rows": 5]],
                ["tool": "sql.select", "arguments": ["query": "SELECT 1; DELETE FROM sites", "max_rows": 5]],
            ]
        ]
        let planURL = home.appendingPathComponent("plan-http.json")
        try Data(plan.canonicalBytes).write(to: planURL)
        let client = try CLI.run(
            [MCPPeer.script("client.py"), planURL.path, "--http", "unix:" + socket, "2"],
            executable: URL(fileURLWithPath: try MCPPeer.python.get()))
        try #require(client.status == 0, "client failed: \(client.stderr)")
        let report = try JSONParser().parse(client.stdout)
        let sessions = report["sessions"]?.arrayValue ?? []
        try #require(sessions.count == 2, "\(report.prettyString)")
        for session in sessions {
            #expect(session["protocol"]?.stringValue == "2025-11-25")
            let results = session["results"]?.arrayValue ?? []
            try #require(results.count == 2, "\(session.prettyString)")
            #expect(results[0]["isError"] == false && results[0]["text"]?.stringValue?.contains("Rotterdam") == true)
            #expect(
                results[1]["isError"] == true && results[1]["text"]?.stringValue?.contains("sql.single-select") == true)
        }

        kill(server.process.processIdentifier, SIGTERM)
        let ended = server.finish()
        #expect(ended.status == 143, "\(ended.stderr)")
        // Two sessions, two runs, each ended by its client, each in the trace and intact.
        let runs = ended.stderr.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: " is run ") else { return nil }
            return String(line[range.upperBound...])
        }
        try #require(Set(runs).count == 2, "\(ended.stderr)")
        for run in runs {
            #expect(ended.stderr.contains("run \(run) ended: succeeded"), "\(ended.stderr)")
            let show = try CLI.run(["trace", "show", run, "--json"], environment: env)
            #expect(show.stdout.contains("mcp-client:http"), "\(show.stdout.prefix(600))")
            let verify = try CLI.run(["trace", "verify", run], environment: env)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        }
    }

    @Test func httpTakesOnlyAUnixSocket() throws {
        try writeProfile()
        let tcp = try CLI.run(["mcp", "serve", "--profile", "analyst", "--http", "127.0.0.1:8080"], environment: env)
        #expect(tcp.status == 64, "\(tcp.stderr)")
        #expect(tcp.stderr.contains("expected unix:PATH"), "\(tcp.stderr)")
    }
}
