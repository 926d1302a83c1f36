import AirlockCore
import Evaluation
import Foundation
import Model
import Replay
import Runs
import Testing
import Trace

/// The harness through its real parts: a suite read from a file, every attempt a real run built by
/// `RunConstructor` (the sandbox, the policy, the trace), judged from its verified record. The
/// shipped suite's oracles pass every check; oracles that do the job wrong fail the very checks
/// that name what they did wrong.
@Suite("airlock eval: suites, checks and attempts", .serialized)
final class EvaluationRunnerTests {
    let site: EvaluationSite

    init() throws { site = try EvaluationSite() }
    deinit { site.remove() }

    var shippedSuite: URL { EvaluationSite.repository.appendingPathComponent("manifests/evaluations/sample-site.yaml") }

    func runner() -> EvaluationRunner { EvaluationRunner(constructor: site.constructor, principal: "ana") }

    @Test func theShippedSuiteHoldsTenTasksOrMoreEachWithAnOracleScript() throws {
        let suite = try EvaluationSuite.load(shippedSuite)
        #expect(suite.name == "sample-site")
        #expect(suite.tasks.count >= 10)
        for task in suite.tasks {
            let oracle = try #require(task.oracle, "\(task.id) has no oracle")
            _ = try ScriptedModel(contentsOf: oracle)
            #expect(
                !task.checks.answerContains.isEmpty || !task.checks.notesContain.isEmpty, "\(task.id) checks no fact")
        }
    }

    @Test func theOraclePassesEveryCheckOfTheShippedSuiteAndEachAttemptIsAVerifiedRun() async throws {
        let suite = try EvaluationSuite.load(shippedSuite)
        let report = try await runner().run(
            suite, configurations: [EvaluationConfiguration(model: .oracle)], repeats: 1)
        let result = try #require(report.configurations.first)
        for task in result.tasks {
            for attempt in task.attempts {
                #expect(attempt.passed, "\(task.task): \(attempt.verdicts.filter { !$0.passed })")
            }
        }
        #expect(result.overall.successes == suite.tasks.count)
        #expect(result.overall.lower > 0.7)
        #expect(report.allPassed)
        let (store, key) = try site.constructor.trace()
        let ids = result.tasks.flatMap(\.attempts).map(\.record.runID)
        #expect(Set(ids).count == suite.tasks.count)
        for id in ids {
            let recorded = try RecordedRun(runID: id, store: store, trustedKeys: [key.publicKey])
            #expect(recorded.verification.status == .intact)
        }
    }

    /// Oracles that do the job wrong: each fails the check that names its mistake, and only it.
    @Test func checksFailOnTheMistakeTheyNameAndOnlyThere() async throws {
        let workflow = EvaluationSite.workflow("log-triage")
        try site.file(
            "wrong-answer.yaml",
            """
            responses:
              - tool_calls: [{name: logs.search, arguments: {pattern: ERROR}}]
              - content: Something about the api happened.
            """)
        try site.file(
            "refused.yaml",
            """
            responses:
              - tool_calls: [{name: sql.select, arguments: {query: SELECT 1, max_rows: 1}}]
              - content: payments ledger
            """)
        try site.file("empty.yaml", "responses:\n  - content: '   '\n")
        try site.file(
            "looping.yaml",
            "responses:\n  - content: '" + String(repeating: "The tool exited 2. The error is: ", count: 40) + "'\n")
        let suite = try site.file(
            "wrong.yaml",
            """
            airlock_eval: 1
            name: wrong
            tasks:
              - id: wrong-answer
                workflow: \(workflow)
                oracle: wrong-answer.yaml
                checks: {answer_contains: [payments, api], called: [logs.search, workspace.note]}
              - id: refused
                workflow: \(workflow)
                oracle: refused.yaml
                checks: {answer_contains: [payments], not_called: [sql.select]}
              - id: empty
                workflow: \(workflow)
                oracle: empty.yaml
                checks: {}
              - id: looping
                workflow: \(workflow)
                oracle: looping.yaml
                checks: {}
            """)
        let report = try await runner().run(
            try EvaluationSuite.load(suite), configurations: [EvaluationConfiguration(model: .oracle)], repeats: 1)
        let tasks = try #require(report.configurations.first?.tasks)
        func failed(_ index: Int) -> [String: String] {
            Dictionary(
                tasks[index].attempts[0].verdicts.filter { !$0.passed }.map { ($0.check, $0.detail) },
                uniquingKeysWith: { a, b in a + "; " + b })
        }
        #expect(
            failed(0) == ["answer_contains": #"the answer lacks "payments""#, "called": "workspace.note never ran"])
        #expect(Set(failed(1).keys) == ["not_called", "no_refusals"], "\(failed(1))")
        #expect(failed(1)["no_refusals"] == "1 call(s) refused")
        #expect(tasks[2].attempts[0].record.status == "degenerate_answer")
        #expect(tasks[2].attempts[0].record.degenerate == "empty")
        #expect(failed(2)["status"]?.contains("got status degenerate_answer (degenerate answer: empty)") == true)
        #expect(tasks[3].attempts[0].record.degenerate == "repetition")
        #expect(report.configurations[0].overall.successes == 0)
        #expect(!report.allPassed)
        // The flag is the trace's: run.finished records it.
        let (store, key) = try site.constructor.trace()
        let recorded = try RecordedRun(
            runID: tasks[3].attempts[0].record.runID, store: store, trustedKeys: [key.publicKey])
        let finished = try #require(recorded.events.last)
        #expect(finished.payload["degenerate"] == "repetition")
        #expect(finished.payload["status"] == "degenerate_answer")
    }

    @Test func repeatsAreSeparateRunsAndTheIntervalWidensWithFewAttempts() async throws {
        try site.file("ok.yaml", "responses:\n  - content: The payments ledger timed out.\n")
        let suite = try site.file(
            "two.yaml",
            """
            airlock_eval: 1
            name: two
            tasks:
              - id: ok
                workflow: \(EvaluationSite.workflow("log-triage"))
                oracle: ok.yaml
                checks: {answer_contains: [ledger]}
            """)
        let report = try await runner().run(
            try EvaluationSuite.load(suite),
            configurations: [
                EvaluationConfiguration(model: .oracle, toolCalling: "native"),
                EvaluationConfiguration(model: .oracle, toolCalling: "constrained"),
            ], repeats: 2)
        #expect(report.configurations.map(\.configuration.label) == ["oracle@native", "oracle@constrained"])
        let attempts = report.configurations.flatMap { $0.tasks[0].attempts }
        #expect(Set(attempts.map(\.record.runID)).count == 4)
        #expect(report.configurations[0].overall.text == "100 % (34–100 %)")
        let text = report.text
        #expect(text.contains("oracle@native"), "\(text)")
        #expect(text.contains("oracle@constrained"))
        #expect(text.contains(attempts[3].record.runID))
        let json = report.json
        #expect(json["configurations"]?.arrayValue?[1]["configuration"]?["tool_calling"] == "constrained")
        #expect(json["configurations"]?.arrayValue?[0]["overall"]?["successes"] == 2)
    }

    @Test func aSuiteWithProblemsIsRefusedWithEveryProblemAndItsLine() throws {
        let bad = try site.file(
            "bad.yaml",
            """
            airlock_eval: 2
            name: Bad Name!
            colour: blue
            tasks:
              - id: a
                workflow: \(EvaluationSite.workflow("log-triage"))
                checks: {status: fine, answer_contains: [[]], no_refusals: maybe}
              - id: a
                workflow: \(EvaluationSite.workflow("log-triage"))
            """)
        #expect {
            try EvaluationSuite.load(bad)
        } throws: { error in
            guard let error = error as? RunsError, error.code == .invalidInput else { return false }
            return [
                "/airlock_eval (line 1)", "/name (line 2)", "/colour (line 3)", "/tasks/0/checks/status (line 7)",
                "/tasks/0/checks/answer_contains/0", "/tasks/0/checks/no_refusals", "/tasks/1/id (line 8)",
                #"/tasks/1 (line 8): missing required field "checks""#,
            ].allSatisfy { error.message.contains($0) }
        }
        let missing = try site.file(
            "missing.yaml", "airlock_eval: 1\nname: m\ntasks:\n  - {id: a, workflow: nowhere.yaml, checks: {}}\n")
        #expect {
            try EvaluationSuite.load(missing)
        } throws: { error in
            (error as? RunsError)?.code == .notFound && "\(error)".contains("/tasks/0/workflow: no file at")
        }
        #expect(throws: RunsError.self) {
            try EvaluationSuite.load(site.scratch.appendingPathComponent("none.yaml"))
        }
    }

    @Test func anOracleConfigurationNeedsAnOracleForEveryTask() async throws {
        let suite = try site.file(
            "no-oracle.yaml",
            "airlock_eval: 1\nname: n\ntasks:\n  - {id: a, workflow: \(EvaluationSite.workflow("log-triage")), checks: {}}\n"
        )
        await #expect {
            _ = try await self.runner().run(
                try EvaluationSuite.load(suite), configurations: [EvaluationConfiguration(model: .oracle)], repeats: 1)
        } throws: { error in
            (error as? RunsError)?.code == .usage && "\(error)".contains("task a")
        }
    }
}
