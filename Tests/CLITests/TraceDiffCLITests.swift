import AirlockCore
import Foundation
import Testing

/// `airlock trace diff` as a reviewer runs it: the built binary over runs `airlock run` recorded
/// in a temporary AIRLOCK_HOME (sample site, shipped tools, the log-triage workflow, scripted
/// models), whose tool output, answer or parameters differ, or do not.
@Suite("airlock trace diff (CLI)", .serialized)
struct TraceDiffCLITests {
    let base: RunCLITests
    var env: [String: String] { base.env }

    init() throws {
        base = try RunCLITests()
    }

    /// A model script named `script.yaml` in a directory of its own, so that two scripts give
    /// the model the same name (`scripted:script.yaml`) and only what they say differs.
    func script(_ text: String) throws -> String {
        let directory = base.home.appendingPathComponent("scripts-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("script.yaml")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// One search for ERROR, then `answer`.
    func searchScript(answer: String = "Payments timed out twice.") throws -> String {
        try script(
            """
            responses:
              - tool_calls:
                  - {name: logs.search, arguments: {pattern: ERROR, max_matches: 20}}
              - content: "\(answer)"
            """)
    }

    /// Records a log-triage run and returns its id.
    func record(_ script: String, _ extra: [String] = []) throws -> String {
        let result = try CLI.run(
            ["run", base.workflow, "--model", "script:" + script, "--json", "--quiet"] + extra, environment: env)
        try #require(result.status == 0, "\(result.stderr)")
        return try #require(try JSONParser().parse(result.stdout)["run_id"]?.stringValue)
    }

    /// The `A:` and `B:` lines that follow `pointer` in the text output of the event `type`.
    func sides(_ stdout: String, event type: String, pointer: String) throws -> (String, String) {
        let lines = stdout.split(separator: "\n").map(String.init)
        let event = try #require(lines.firstIndex { $0.hasPrefix("  \(type) ") }, "no \(type) in\n\(stdout)")
        let at = try #require(lines[event...].firstIndex { $0 == "    \(pointer)" }, "no \(pointer) in\n\(stdout)")
        try #require(at + 2 < lines.count)
        return (lines[at + 1], lines[at + 2])
    }

    @Test func aToolOutputThatDiffersAfterCharacter300ShowsWhereItDiffers() throws {
        let script = try searchScript()
        let a = try record(script)
        // The dataset changes between the runs: the last match's line, past character 500 of the output.
        let log = base.home.appendingPathComponent("datasets/logs/auth.log")
        let text = try String(contentsOf: log, encoding: .utf8)
        try Data(text.replacing("after=3-failures", with: "after=4-failures").utf8).write(to: log)
        let b = try record(script)

        let diff = try CLI.run(["trace", "diff", a, b], environment: env)
        #expect(diff.status == 1, "\(diff.stdout)\(diff.stderr)")
        #expect(diff.stdout.contains("  answer: same \"Payments timed out twice.\""), "\(diff.stdout)")
        #expect(diff.stdout.contains("  model: same "))
        for (type, pointer) in [("tool.executed", "/record/stdout/text"), ("tool.result", "/content")] {
            let (left, right) = try sides(diff.stdout, event: type, pointer: pointer)
            #expect(left != right)
            #expect(left.contains("after=3-failures") && right.contains("after=4-failures"), "\(left)\n\(right)")
            // The region where they part, with its offset and both lengths, not a shared prefix.
            let offset = try #require(Int(left.drop { $0 != "@" }.dropFirst().prefix { $0.isNumber }))
            #expect(offset > 300)
            #expect(left.hasPrefix("      A: @\(offset) of ") && right.hasPrefix("      B: @\(offset) of "))
        }
        // Nothing that differs between any two runs is reported: times, call ids, the workspace.
        for ignored in ["wallSeconds", "call_id", "networkNamespace", "/context/workspace", "workspaces/run-"] {
            #expect(!diff.stdout.contains(ignored), "\(ignored) in\n\(diff.stdout)")
        }

        let json = try CLI.run(["trace", "diff", a, b, "--json"], environment: env)
        #expect(json.status == 1, "\(json.stderr)")
        let document = try JSONParser().parse(json.stdout)
        #expect(document["identical"] == false)
        #expect(document["run_a"]?.stringValue == a && document["run_b"]?.stringValue == b)
        #expect(document["summary"]?["answer"]?["same"] == true)
        let events = try #require(document["events"]?.arrayValue)
        let result = try #require(events.first { $0["type"] == "tool.result" })
        #expect(result["step_a"] == 1 && result["step_b"] == 1)
        #expect(result["call"]?.stringValue == #"logs.search {"max_matches":20,"pattern":"ERROR"}"#)
        #expect(result["only_in"] == nil)
        let change = try #require(result["changes"]?.arrayValue?.first { $0["pointer"] == "/content" })
        // Whole values, nothing cut.
        let before = try #require(change["a"]?.stringValue)
        let after = try #require(change["b"]?.stringValue)
        #expect(before.hasPrefix(#"{"filesScanned": 2, "matches": ["#) && before.hasSuffix("\"truncated\": false}\n"))
        #expect(before.count > 500 && before.replacing("after=3-failures", with: "after=4-failures") == after)
    }

    @Test func anAnswerThatDiffersAfterCharacter300ShowsWhereItDiffers() throws {
        // Past the recorder's blob threshold (4,096 bytes): the answers are stored as blobs, and
        // read back whole.
        let common = String(repeating: "The payments service timed out contacting the ledger. ", count: 90)
        #expect(common.count > 4_096)
        let a = try record(try searchScript(answer: common + "Restart the ledger first."))
        let b = try record(try searchScript(answer: common + "Restart the gateway first."))

        let diff = try CLI.run(["trace", "diff", a, b], environment: env)
        #expect(diff.status == 1, "\(diff.stdout)\(diff.stderr)")
        #expect(diff.stdout.contains("(B, 1 call): answer and "), "\(diff.stdout)")
        let lines = diff.stdout.split(separator: "\n").map(String.init)
        let answer = try #require(lines.firstIndex(of: "  answer: differs"), "\(diff.stdout)")
        let (left, right) = (lines[answer + 1], lines[answer + 2])
        #expect(left != right)
        #expect(left.hasPrefix("    A: @\(common.count + 12) of \(common.count + 25): \"…"), "\(left)")
        #expect(left.contains("Restart the ledger first.") && right.contains("Restart the gateway first."))
        #expect(diff.stdout.contains("  model: same "))
        #expect(diff.stdout.contains("  run.finished step 2\n    /answer\n"))

        // --full: the whole answer on each side.
        let full = try CLI.run(["trace", "diff", a, b, "--full"], environment: env)
        #expect(full.status == 1)
        #expect(full.stdout.contains("    A: \"\(common)Restart the ledger first.\"\n"), "\(full.stdout)")
        #expect(full.stdout.contains("    B: \"\(common)Restart the gateway first.\"\n"))

        let json = try JSONParser().parse(try CLI.run(["trace", "diff", a, b, "--json"], environment: env).stdout)
        #expect(json["summary"]?["answer"]?["a"]?.stringValue == common + "Restart the ledger first.")
        #expect(json["summary"]?["answer"]?["b"]?.stringValue == common + "Restart the gateway first.")
        let finished = try #require(json["events"]?.arrayValue?.first { $0["type"] == "run.finished" })
        #expect(
            finished["changes"]
                == [
                    [
                        "pointer": "/answer", "a": .string(common + "Restart the ledger first."),
                        "b": .string(common + "Restart the gateway first."),
                    ]
                ])
    }

    @Test func twoRunsOfTheSameScriptAndParametersShowNoDifference() throws {
        let script = try searchScript()
        let a = try record(script, ["--param", "level=ERROR"])
        let b = try record(script, ["--param", "level=ERROR"])
        let diff = try CLI.run(["trace", "diff", a, b], environment: env)
        #expect(diff.status == 0, "\(diff.stdout)\(diff.stderr)")
        #expect(diff.stdout.contains("\(a) and \(b): no difference"), "\(diff.stdout)")
        let json = try CLI.run(["trace", "diff", a, b, "--json"], environment: env)
        #expect(json.status == 0)
        let document = try JSONParser().parse(json.stdout)
        #expect(document["identical"] == true)
        #expect(document["events"] == [])
        #expect(document["summary"]?["status"] == ["same": true, "a": "succeeded", "b": "succeeded"])
    }

    @Test func aDifferentParameterShowsUnderParameters() throws {
        let script = try searchScript()
        let a = try record(script)
        let b = try record(script, ["--param", "level=WARN"])
        let diff = try CLI.run(["trace", "diff", a, b], environment: env)
        #expect(diff.status == 1, "\(diff.stdout)\(diff.stderr)")
        #expect(
            diff.stdout.contains("  parameters: differs\n    /level\n      A: \"ERROR\"\n      B: \"WARN\"\n"),
            "\(diff.stdout)")
        let json = try JSONParser().parse(try CLI.run(["trace", "diff", a, b, "--json"], environment: env).stdout)
        let parameters = json["summary"]?["parameters"]
        #expect(parameters?["same"] == false)
        #expect(parameters?["a"]?["level"] == "ERROR" && parameters?["b"]?["level"] == "WARN")
    }

    @Test func aRunThatDoesNotVerifyIsRefusedAndAMissingOneIsNotFound() throws {
        let a = try record(try searchScript())
        let b = try record(try searchScript(answer: "Tampered later."))
        try SampleSite.tamperTrace(base.home, replacing: "Tampered later.", with: "All is well.")
        let tampered = try CLI.run(["trace", "diff", a, b], environment: env)
        #expect(tampered.status == 65, "\(tampered.stdout)\(tampered.stderr)")
        #expect(tampered.stderr.contains("does not verify"), "\(tampered.stderr)")
        #expect(tampered.stdout.isEmpty)
        #expect(try CLI.run(["trace", "diff", a, "no-such-run"], environment: env).status == 66)
    }
}
