import AirlockCore
import Foundation
import Testing

/// `airlock eval` as a user runs it: a suite over the sample site, each attempt a run in the
/// home's trace that `airlock trace verify` accepts, the report as text (side by side under
/// `--compare`) and as JSON, and one task on the real embedded model when it is installed.
@Suite("airlock eval (CLI)", .serialized)
final class EvalCLITests {
    let home: URL
    let scratch: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path, "USER": "ana"] }

    init() throws {
        home = try SampleSite.make("airlock-eval-home")
        scratch = try CLI.temporaryDirectory("airlock-eval-scratch")
    }

    deinit {
        try? FileManager.default.removeItem(at: home)
        try? FileManager.default.removeItem(at: scratch)
    }

    func file(_ name: String, _ text: String) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// Two tasks of the shipped suite's kind, their oracles beside them: one right, one wrong.
    func suite() throws -> String {
        let workflows = SampleSite.root.appendingPathComponent("manifests/workflows").path
        _ = try file(
            "right.yaml",
            "responses:\n  - tool_calls: [{name: sql.select, arguments: {query: SELECT COUNT(*) FROM items, max_rows: 1}}]\n  - content: The warehouse lists 7 items.\n"
        )
        _ = try file("wrong.yaml", "responses:\n  - content: There are 17 items.\n")
        return try file(
            "suite.yaml",
            """
            airlock_eval: 1
            name: cli
            tasks:
              - id: right
                workflow: \(workflows)/dataset-report.yaml
                parameters: {question: How many items are there?}
                oracle: right.yaml
                checks: {answer_contains: ["7"], called: [sql.select]}
              - id: wrong
                workflow: \(workflows)/dataset-report.yaml
                parameters: {question: How many items are there?}
                oracle: wrong.yaml
                checks: {answer_contains: ["7"]}
            """)
    }

    @Test func theReportNamesEveryRunAndItsIntervalsAndTheRunsVerify() throws {
        let result = try CLI.run(["eval", try suite(), "--model", "oracle", "--repeat", "2"], environment: env)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("suite cli (2 tasks, 2 attempt(s) each)"), "\(result.stdout)")
        #expect(result.stdout.contains("oracle@auto"))
        #expect(result.stdout.contains("success             2/4") || result.stdout.contains("2/4"), "\(result.stdout)")
        #expect(result.stdout.contains("50 % (15–85 %)"), "\(result.stdout)")
        #expect(result.stdout.contains(#"answer_contains: the answer lacks "7""#), "\(result.stdout)")
        #expect(result.stderr.contains("eval: oracle@auto right attempt 1/2"), "\(result.stderr)")
        let ids = result.stdout.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: " run ") else { return nil }
            return line[range.upperBound...].split(separator: " ").first.map(String.init)
        }
        #expect(ids.count == 4, "\(result.stdout)")
        for id in ids {
            let verify = try CLI.run(["trace", "verify", id], environment: env)
            #expect(verify.status == 0, "\(id): \(verify.stdout)")
        }
    }

    @Test func compareSetsConfigurationsSideBySideAndJSONCarriesTheSame() throws {
        let result = try CLI.run(
            ["eval", try suite(), "--compare", "oracle@native", "--compare", "oracle@constrained", "--json"],
            environment: env)
        #expect(result.status == 1, "\(result.stderr)")
        let report = try JSONParser().parse(Array(result.stdout.utf8))
        let configurations = try #require(report["configurations"]?.arrayValue)
        #expect(configurations.map { $0["configuration"]?["label"] } == ["oracle@native", "oracle@constrained"])
        for configuration in configurations {
            #expect(configuration["overall"]?["successes"] == 1)
            #expect(configuration["overall"]?["trials"] == 2)
            let tasks = try #require(configuration["tasks"]?.arrayValue)
            #expect(tasks[0]["attempts"]?.arrayValue?[0]["passed"] == true)
            #expect(tasks[1]["attempts"]?.arrayValue?[0]["passed"] == false)
            #expect(tasks[0]["attempts"]?.arrayValue?[0]["record"]?["ran"] == ["sql.select"])
        }
        let text = try CLI.run(
            ["eval", try suite(), "--compare", "oracle@native", "--compare", "oracle@constrained"], environment: env)
        let header = try #require(text.stdout.split(separator: "\n").dropFirst().first)
        #expect(header.contains("oracle@native") && header.contains("oracle@constrained"), "\(text.stdout)")
        let both = try CLI.run(["eval", try suite(), "--compare", "oracle", "--model", "x"], environment: env)
        #expect(both.status == 64)
    }

    /// One task, one attempt, on the real embedded model (the shipped log-triage workflow with
    /// short replies and three steps, so the test stays short): whatever it achieves, the attempt
    /// is a recorded run the report names, with the tokens the server counted.
    @Test(.enabled(if: InstalledModel.enabled, InstalledModel.skipReason))
    func theEmbeddedModelIsEvaluatedOnARecordedRun() throws {
        try #require(InstalledModel.available, "no installed model in \(InstalledModel.store)")
        let environment = env.merging(["AIRLOCK_MODEL_HOME": InstalledModel.store]) { _, new in new }
        defer { _ = try? CLI.run(["model", "stop"], environment: environment) }
        let policy = SampleSite.root.appendingPathComponent("manifests/policies/workflows.yaml").path
        let shipped = try String(
            contentsOf: SampleSite.root.appendingPathComponent("manifests/workflows/log-triage.yaml"), encoding: .utf8)
        let small =
            shipped
            .replacingOccurrences(of: "policy: ../policies/workflows.yaml", with: "policy: \(policy)")
            .replacingOccurrences(of: "max_tokens: 1024", with: "max_tokens: 96")
            .replacingOccurrences(of: "max_steps: 8", with: "max_steps: 3")
        #expect(small != shipped)
        let workflow = try file("small-triage.yaml", small)
        let suite = try file(
            "embedded.yaml",
            "airlock_eval: 1\nname: embedded\ntasks:\n  - {id: triage, workflow: \(workflow), checks: {answer_contains: [ledger]}}\n"
        )
        let result = try CLI.run(["eval", suite, "--json", "--quiet"], environment: environment)
        #expect([0, 1].contains(result.status), "\(result.stdout)\(result.stderr)")
        let report = try JSONParser().parse(Array(result.stdout.utf8))
        let attempt = try #require(
            report["configurations"]?.arrayValue?[0]["tasks"]?.arrayValue?[0]["attempts"]?.arrayValue?[0]["record"])
        let id = try #require(attempt["run_id"]?.stringValue)
        #expect((attempt["input_tokens"]?.integerValue ?? 0) > 0, "\(attempt)")
        #expect(try CLI.run(["trace", "verify", id], environment: environment).status == 0)
    }
}
