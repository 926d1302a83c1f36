import AirlockCore
import Foundation
import Testing

/// `airlock replay` as a reviewer runs it: the built binary over a run `airlock run` recorded in a
/// temporary AIRLOCK_HOME (sample site, shipped tools, scripted model).
@Suite("airlock replay (CLI)", .serialized)
struct ReplayCLITests {
    let base: RunCLITests
    var env: [String: String] { base.env }
    var workflows: String { RunCLITests.root.appendingPathComponent("manifests/workflows").path }

    init() throws {
        base = try RunCLITests()
    }

    /// A recorded log-triage run: one search, one note, an answer.
    func recordRun() throws -> String {
        let model = try base.script(
            """
            responses:
              - tool_calls:
                  - {name: logs.search, arguments: {pattern: ERROR, max_matches: 20}}
              - tool_calls:
                  - {name: workspace.note, arguments: {title: Log triage, text: "payments: 2 ledger timeouts"}}
              - content: "Payments timed out twice."
            """)
        let result = try CLI.run(
            ["run", base.workflow, "--param", "level=ERROR", "--model", "script:" + model, "--json", "--quiet"],
            environment: env)
        try #require(result.status == 0, "\(result.stderr)")
        return try #require(try JSONParser().parse(result.stdout)["run_id"]?.stringValue)
    }

    @Test func replayIsIdenticalAndWhatIfListsTheFlip() throws {
        let runID = try recordRun()
        let replay = try CLI.run(["replay", runID, "--workflows", workflows], environment: env)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.contains("replay identical"))

        let policy = RunCLITests.root.appendingPathComponent("manifests/policies/workflows.yaml")
        let text = try String(contentsOf: policy, encoding: .utf8) + """

              - id: whatif.no-notes
                effect: forbid
                when:
                  tools: [workspace.note]
                reason: "Notes are withdrawn."
                tags: [maestro:L3]

            """
        let newPolicy = base.home.appendingPathComponent("new-policy.yaml")
        try Data(text.utf8).write(to: newPolicy)
        let whatIf = try CLI.run(
            ["replay", runID, "--workflows", workflows, "--policy", newPolicy.path, "--json"], environment: env)
        #expect(whatIf.status == 0, "\(whatIf.stderr)")
        let json = try JSONParser().parse(whatIf.stdout)
        let flips = try #require(json["what_if"]?["flips"]?.arrayValue)
        #expect(flips.count == 1)
        #expect(flips.first?["tool"] == "workspace.note")
        #expect(flips.first?["kind"] == "allow→deny")

        _ = try recordRun()
        let all = try CLI.run(["replay", "--all", "--workflows", workflows, "--policy", newPolicy.path], environment: env)
        #expect(all.status == 0, "\(all.stdout)\(all.stderr)")
        #expect(all.stdout.contains("runs 2  proposals 4  flips 2"))
        #expect(all.stdout.contains("whatif.no-notes"))
    }

    @Test func missingRunAndUsage() throws {
        _ = try recordRun()
        let missing = try CLI.run(["replay", "no-such-run", "--workflows", workflows], environment: env)
        #expect(missing.status == 66, "\(missing.stderr)")
        #expect(missing.stderr.contains("no run no-such-run"))
        let usage = try CLI.run(["replay"], environment: env)
        #expect(usage.status == 64)
    }
}
