import AirlockCore
import Foundation
import Testing

/// `airlock run` as an analyst runs it: the built binary, a sample site in a temporary
/// AIRLOCK_HOME, the shipped tools and workflow, a scripted model; then `trace verify`.
@Suite("airlock run (CLI)", .serialized)
struct RunCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let home: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }

    init() throws {
        home = try SampleSite.make("airlock-run-home")
    }

    func script(_ text: String) throws -> String {
        let url = home.appendingPathComponent("script-\(UUID().uuidString.prefix(6)).yaml")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    var workflow: String { Self.root.appendingPathComponent("manifests/workflows/log-triage.yaml").path }

    @Test func aScriptedRunAnswersAndItsTraceVerifies() throws {
        let model = try script(
            """
            responses:
              - tool_calls:
                  - {name: logs.search, arguments: {pattern: ERROR, max_matches: 20}}
                  - {name: logs.search, arguments: '{"pattern": "a", "pattern": "b"}'}
              - tool_calls:
                  - {name: workspace.note, arguments: {title: Log triage, text: "payments: 2 ledger timeouts"}}
              - content: "Payments timed out twice contacting the ledger."
            """)
        let result = try CLI.run(
            ["run", workflow, "--param", "level=ERROR", "--model", "script:" + model], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("Payments timed out twice contacting the ledger.\n"))
        #expect(result.stderr.contains("proposed logs.search"))
        #expect(result.stderr.contains("policy: ALLOW (permit.log-triage)"))
        #expect(result.stderr.contains("malformed: the arguments are not valid JSON"))
        #expect(result.stderr.contains("ran workspace.note: exit 0"))
        let runLine = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("run: ") })
        let runID = String(runLine.dropFirst(5).prefix { $0 != " " })
        let workspaceLine = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("workspace: ") })
        let notes = try String(contentsOfFile: String(workspaceLine.dropFirst(11)) + "/notes.md", encoding: .utf8)
        #expect(notes.contains("payments: 2 ledger timeouts"))

        let verify = try CLI.run(["trace", "verify", runID], environment: env)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("intact"))
        let show = try CLI.run(["trace", "show", runID], environment: env)
        #expect(show.stdout.contains("tool.executed"))
        #expect(show.stdout.contains("scripted"))
        // The list counts as the run did: 3 model steps, 3 proposed calls (the malformed one too).
        #expect(runLine.contains("3 steps, 2 of 3 calls ran"), "\(runLine)")
        let list = try JSONParser().parse(try CLI.run(["trace", "list", "--json"], environment: env).stdout)
        let entry = try #require(list.arrayValue?.first { $0["run"]?.stringValue == runID })
        #expect(entry["steps"] == 3)
        #expect(entry["calls"] == 3)
    }

    /// An operator's home reached through a symbolic link (a data disk mounted elsewhere) works
    /// as the real directory: the link is resolved once, where the operator chose it, and the
    /// sandbox's binds (opened without following links) see only real paths.
    @Test func aHomeReachedThroughASymlinkRunsAndRecordsTheRealPath() throws {
        let link = home.deletingLastPathComponent().appendingPathComponent("link-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: home)
        defer { try? FileManager.default.removeItem(at: link) }
        let model = try script(
            """
            responses:
              - tool_calls: [{name: logs.search, arguments: {pattern: ERROR}}]
              - content: "Searched."
            """)
        let result = try CLI.run(
            ["run", workflow, "--model", "script:" + model], environment: ["AIRLOCK_HOME": link.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("ran logs.search: exit 0"), "\(result.stderr)")
        let workspace = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("workspace: ") })
        let real = try #require(realpath(home.path, nil))
        defer { free(real) }
        #expect(workspace.dropFirst(11).hasPrefix(String(cString: real) + "/workspaces/"), "\(workspace)")
    }

    /// The `model` entry of a run's `run.started`.
    func startedModel(_ runID: String) throws -> JSONValue? {
        let show = try CLI.run(["trace", "show", runID, "--json"], environment: env)
        try #require(show.status == 0, "\(show.stderr)")
        return try JSONParser().parse(show.stdout).arrayValue?.first?["payload"]?["model"]
    }

    @Test func toolCallingModeIsChosenRecordedAndReplayed() throws {
        let model = try script(
            """
            responses:
              - tool_calls: [{name: logs.search, arguments: {pattern: ERROR}}]
              - content: "Done."
            """)
        let bad = try CLI.run(
            ["run", workflow, "--model", "script:" + model, "--tool-calling", "grammar"], environment: env)
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("tool calling mode 'grammar' is not one of auto, native, constrained"))

        // --model given and nothing configured: auto is native.
        func run(_ extra: [String]) throws -> String {
            let result = try CLI.run(
                ["run", workflow, "--model", "script:" + model, "--json", "--quiet"] + extra, environment: env)
            try #require(result.status == 0, "\(result.stderr)")
            return try #require(try JSONParser().parse(result.stdout)["run_id"]?.stringValue)
        }
        #expect(try startedModel(try run([]))?["tool_calling"] == "native")
        // The site's choice applies to auto; the flag wins over it.
        let site = home.appendingPathComponent("site.yaml")
        let text = try String(contentsOf: site, encoding: .utf8)
        try Data((text + "tool_calling: constrained\n").utf8).write(to: site)
        let constrained = try run([])
        let recorded = try startedModel(constrained)
        #expect(recorded?["tool_calling"] == "constrained")
        #expect(recorded?["constrained"]?["excluded_tools"] == [:])
        #expect(try startedModel(try run(["--tool-calling", "native"]))?["tool_calling"] == "native")
        // A constrained run replays identically (the offer is re-compiled the same way).
        let replay = try CLI.run(["replay", constrained], environment: env)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.contains("replay identical"))
    }

    @Test func exitCodesForBudgetDeniedBadWorkflowAndUnreachableModel() throws {
        let loop = try script(
            """
            responses:
              - tool_calls: [{name: ghost.tool, arguments: {}}, {name: sql.select, arguments: {query: SELECT 1}}, {name: ghost, arguments: "{"}]
            """)
        let denied = try CLI.run(["run", workflow, "--model", "script:" + loop, "--json"], environment: env)
        #expect(denied.status == 4, "\(denied.stderr)")
        let json = try JSONParser().parse(denied.stdout)
        #expect(json["status"] == "denied")

        var steps = ""
        // Alternating tools, so the policy's per-tool rate limit (5 in 30 s) never fires first.
        for i in 0..<9 {
            // Each call its own: a repeated one would be answered from the record.
            steps +=
                i % 2 == 0
                ? "  - tool_calls: [{name: logs.search, arguments: {pattern: WARN, max_matches: \(i + 1)}}]\n"
                : "  - tool_calls: [{name: workspace.note, arguments: {text: step \(i)}}]\n"
        }
        let budget = try CLI.run(
            ["run", workflow, "--model", "script:" + (try script("responses:\n" + steps))], environment: env)
        #expect(budget.status == 3, "\(budget.stderr)")
        #expect(budget.stdout.contains("budget_exhausted"))

        let bad = home.appendingPathComponent("bad.yaml")
        try Data("airlock_workflow: 1\nname: x\n".utf8).write(to: bad)
        let invalid = try CLI.run(["run", bad.path, "--model", "script:" + loop], environment: env)
        #expect(invalid.status == 65)
        #expect(invalid.stderr.contains(#"(root) (line 1): missing required field "description""#), "\(invalid.stderr)")

        let down = try CLI.run(
            ["run", workflow, "--model", "unix:/tmp/al-nothing-\(UUID().uuidString.prefix(6)).sock"], environment: env)
        #expect(down.status == 69)
        #expect(down.stdout.contains("model_unreachable"))

        let approve = try CLI.run(
            ["run", workflow, "--approve", "sql.select", "--model", "script:" + loop], environment: env)
        #expect(approve.status == 64)
        #expect(approve.stderr.contains("--approve sql.select: not one of workflow log-triage's tools"))

        // A refused endpoint is a recorded run: started, refused at its first request, verifiable.
        let remote = try CLI.run(["run", workflow, "--model", "http://203.0.113.9:8000", "--json"], environment: env)
        #expect(remote.status == 69)
        let refused = try JSONParser().parse(remote.stdout)
        #expect(refused["status"] == "model_unreachable")
        #expect(refused["message"]?.stringValue?.contains("[endpoint-refused]") == true)
        #expect(refused["message"]?.stringValue?.contains("model_hosts") == true)
        let verify = try CLI.run(["trace", "verify", refused["run_id"]?.stringValue ?? "?"], environment: env)
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    /// `site.yaml` is read once, by one type, for every command: a misspelt key stops `run`,
    /// `tools test` and `doctor` alike, naming the key and its line, and nothing is recorded.
    @Test func aMisspeltSiteKeyStopsEveryCommandThatReadsTheSite() throws {
        let site = home.appendingPathComponent("site.yaml")
        let text = try String(contentsOf: site, encoding: .utf8)
        try Data((text + "model_host: [gpu1]\n").utf8).write(to: site)
        let model = try script("responses:\n  - content: done\n")
        let run = try CLI.run(["run", workflow, "--model", "script:" + model], environment: env)
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stderr.contains("/model_host (line"))
        #expect(
            run.stderr.contains(
                "unknown field \"model_host\" (allowed: datasets, model_hosts, tool_calling, model_idle_seconds,"))
        #expect(run.stderr.contains("model_idle_seconds, internal_hosts, console_listen, console_peers, trace)"))
        let test = try CLI.run(["tools", "test", "logs.search", "--args", #"{"pattern":"x"}"#], environment: env)
        #expect(test.status == 65, "\(test.stderr)")
        #expect(test.stderr.contains("/model_host"))
        // The trace commands read the site too (`trace:` names the trace), and stop the same way.
        let refused = try CLI.run(["trace", "list", "--json"], environment: env)
        #expect(refused.status == 65 && refused.stderr.contains("/model_host"), "\(refused.stderr)")
        let path = home.appendingPathComponent("trace.sqlite").path
        let list = try CLI.run(["trace", "list", "--json", "--database", path], environment: env)
        #expect(try JSONParser().parse(list.stdout) == [], "\(list.stdout)")
    }
}
