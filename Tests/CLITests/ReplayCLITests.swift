import AirlockCore
import Foundation
import Testing

/// `airlock replay` as a reviewer runs it: the built binary over a run `airlock run` recorded in a
/// temporary AIRLOCK_HOME (sample site, shipped tools, scripted model).
@Suite("airlock replay (CLI)", .serialized)
struct ReplayCLITests {
    let base: RunCLITests
    var env: [String: String] { base.env }

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
        let replay = try CLI.run(["replay", runID], environment: env)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.contains("replay identical"))
        let again = try CLI.run(["replay", runID, "--reexecute"], environment: env)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("2 call(s), 0 changed"))
        #expect(try CLI.run(["replay", runID, "--current"], environment: env).status == 64)

        let policy = RunCLITests.root.appendingPathComponent("manifests/policies/workflows.yaml")
        let text =
            try String(contentsOf: policy, encoding: .utf8) + """

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
            ["replay", runID, "--policy", newPolicy.path, "--json"], environment: env)
        #expect(whatIf.status == 0, "\(whatIf.stderr)")
        let json = try JSONParser().parse(whatIf.stdout)
        let flips = try #require(json["what_if"]?["flips"]?.arrayValue)
        #expect(flips.count == 1)
        #expect(flips.first?["tool"] == "workspace.note")
        #expect(flips.first?["kind"] == "allow→deny")

        _ = try recordRun()
        let all = try CLI.run(
            ["replay", "--all", "--policy", newPolicy.path], environment: env)
        #expect(all.status == 0, "\(all.stdout)\(all.stderr)")
        #expect(all.stdout.contains("runs 2  proposals 4  flips 2"))
        #expect(all.stdout.contains("whatif.no-notes"))
    }

    @Test func missingRunAndUsage() throws {
        _ = try recordRun()
        let missing = try CLI.run(["replay", "no-such-run"], environment: env)
        #expect(missing.status == 66, "\(missing.stderr)")
        #expect(missing.stderr.contains("no run no-such-run"))
        let usage = try CLI.run(["replay"], environment: env)
        #expect(usage.status == 64)
    }

    @Test func reviewVerdictIsSignedAndShown() throws {
        let runID = try recordRun()
        let review = try CLI.run(
            ["review", runID, "--verdict", "flag", "--note", "note written twice", "--reviewer", "rita"],
            environment: env)
        #expect(review.status == 0, "\(review.stderr)")
        #expect(review.stdout.contains("flag by rita"))
        let list = try CLI.run(["trace", "list"], environment: env)
        let row = try #require(list.stdout.split(separator: "\n").first { $0.hasPrefix(runID) })
        #expect(row.hasSuffix("flag"))
        #expect(!list.stdout.contains("airlock.review"))
        let show = try CLI.run(["trace", "show", runID], environment: env)
        #expect(show.stdout.contains(#"verdict: flag by rita: "note written twice""#))
        // The run's own chain is untouched and still verifies; the review chain verifies too.
        #expect(try CLI.run(["trace", "verify", runID], environment: env).status == 0)
        let json = try JSONParser().parse(try CLI.run(["trace", "list", "--json"], environment: env).stdout)
        let entry = try #require(json.arrayValue?.first { $0["run"]?.stringValue == runID })
        let verdict = try #require(entry["verdicts"]?.arrayValue?.first)
        #expect(verdict["valid"] == true)
        let reviewID = try #require(verdict["review_id"]?.stringValue)
        #expect(try CLI.run(["trace", "verify", reviewID], environment: env).status == 0)
        // Bad usage.
        #expect(try CLI.run(["review", runID, "--verdict", "maybe", "--note", "x"], environment: env).status == 64)
        #expect(try CLI.run(["review", "nope", "--verdict", "ok", "--note", "x"], environment: env).status == 66)
    }
}
