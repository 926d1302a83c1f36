import AirlockCore
import ArgumentParser
import Evaluation
import Foundation
import Runs

/// `airlock eval SUITE.yaml`: runs every task of an evaluation suite as real runs (recorded in the
/// home's trace), judges each from its verified record, and reports per-task success, the success
/// rate with its 95 % interval, steps, tokens and time — one configuration, or several side by
/// side with `--compare`. The work is `Evaluation.EvaluationRunner`'s; this prints.
///
/// Exit codes (docs/cli.md): 0 every attempt passed its checks; 1 some attempt did not; 64 bad
/// usage; 65 a suite, workflow or oracle that does not read; 66 a missing file; 69 the model
/// cannot be used; 74 the trace or registry could not be used.
struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model on a suite of tasks: every attempt a recorded run, judged from its trace.",
        discussion:
            "Exit codes: 0 every attempt passed, 1 some did not, 64 usage, 65 bad suite, 66 missing file, 69 model unavailable, 74 state (docs/cli.md). The suite format is in docs/evaluation.md."
    )

    @Argument(help: "The suite file (e.g. manifests/evaluations/sample-site.yaml).")
    var suite: String

    @Option(
        help:
            "embedded | oracle | unix:PATH | http://127.0.0.1:PORT[/PATH] | script:FILE.yaml (default embedded: the home's model; oracle: each task's scripted oracle)."
    )
    var model = "embedded"

    @Option(name: .customLong("tool-calling"), help: "auto | native | constrained (as `airlock run`).")
    var toolCalling = "auto"

    @Option(name: .customLong("repeat"), help: "Attempts per task and configuration (1–100, default 1).")
    var repeats = 1

    @Option(
        name: .customLong("compare"),
        help:
            "MODEL[@MODE]: a configuration to run beside the others (repeatable; e.g. --compare embedded@native --compare embedded@constrained --compare oracle). Replaces --model/--tool-calling."
    )
    var compare: [String] = []

    @Flag(help: "Print the report as JSON on stdout.")
    var json = false

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    func run() async throws {
        let (home, _) = try ToolsCLI.registry()
        let report: EvaluationReport
        do throws(RunsError) {
            let configurations =
                compare.isEmpty
                ? [try EvaluationConfiguration.parse(model, defaultMode: toolCalling)]
                : try compare.map { text throws(RunsError) in try EvaluationConfiguration.parse(text) }
            if !compare.isEmpty, model != "embedded" || toolCalling != "auto" {
                throw RunsError(.usage, "--compare names every configuration; drop --model and --tool-calling")
            }
            let suite = try EvaluationSuite.load(ToolsCLI.url(self.suite))
            let runner = EvaluationRunner(constructor: RunConstructor(home: home), principal: RunCommand.userName())
            let quiet = self.quiet
            report = try await runner.run(suite, configurations: configurations, repeats: repeats) { event in
                guard !quiet else { return }
                switch event {
                case .preparing(let line): printError("model: \(line)")
                case .starting(let configuration, let task, let attempt, let of):
                    printError("eval: \(configuration) \(task) attempt \(attempt)/\(of) …")
                case .finished(_, let task, _, let result):
                    let failure = result.firstFailure.map { ": \($0.check): \($0.detail)" } ?? ""
                    printError(
                        "eval: \(task) \(result.passed ? "pass" : "FAIL") run \(result.record.runID)\(TerminalText.escape(failure))"
                    )
                }
            }
        } catch {
            throw CLI.fail(error)
        }
        print(json ? report.json.prettyString : report.text)
        if !report.allPassed { throw ExitCode.checkFailed }
    }
}
