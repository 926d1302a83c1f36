import Agent
import Foundation
import Replay
import Runs
import Trace

/// Runs a suite under one or more configurations. Every attempt is a real run assembled by
/// ``RunConstructor/live(_:announce:)`` (the workflow, the home's policy, registry, sandbox and
/// secrets, the chosen model), recorded in the home's trace, then read back verified and judged.
public struct EvaluationRunner: Sendable {
    /// What a front door is told as the evaluation goes.
    public enum Progress: Sendable, Hashable {
        /// An attempt is starting.
        case starting(configuration: String, task: String, attempt: Int, of: Int)
        /// An attempt ended and was judged.
        case finished(configuration: String, task: String, attempt: Int, result: AttemptResult)
        /// Slow preparation (the embedded model server being started).
        case preparing(String)
    }

    /// Where runs are assembled from.
    public let constructor: RunConstructor
    /// The person the runs act for.
    public let principal: String

    /// The most attempts per task and configuration.
    public static let maxRepeats = 100

    /// Creates a runner over a home's constructor.
    public init(constructor: RunConstructor, principal: String) {
        self.constructor = constructor
        self.principal = principal
    }

    /// Runs every task of `suite` `repeats` times under each configuration, in order.
    /// - Throws: ``RunsError`` when a run cannot be assembled (a workflow that does not
    ///   load, a task's oracle missing, a bad endpoint) or the trace cannot be used; a run that
    ///   started is a result whatever its end.
    public func run(
        _ suite: EvaluationSuite, configurations: [EvaluationConfiguration], repeats: Int,
        progress: @escaping @Sendable (Progress) -> Void = { _ in }
    ) async throws(RunsError) -> EvaluationReport {
        guard (1...Self.maxRepeats).contains(repeats) else {
            throw RunsError(.usage, "--repeat \(repeats): expected 1 to \(Self.maxRepeats)")
        }
        guard !configurations.isEmpty else { throw RunsError(.usage, "no configuration to evaluate") }
        if configurations.contains(where: { $0.model == .oracle }) {
            if let task = suite.tasks.first(where: { $0.oracle == nil }) {
                throw RunsError(
                    .usage, "--model oracle: task \(task.id) of \(suite.path.path) has no oracle: script")
            }
        }
        let store: TraceStore
        let key: TraceSigningKey
        do throws(RunsError) {
            (store, key) = try constructor.trace()
        } catch {
            throw RunsError(.state, error.message, cause: error.cause)
        }
        var results: [ConfigurationResult] = []
        for configuration in configurations {
            var tasks: [TaskResult] = []
            for task in suite.tasks {
                var attempts: [AttemptResult] = []
                for attempt in 1...repeats {
                    progress(
                        .starting(configuration: configuration.label, task: task.id, attempt: attempt, of: repeats))
                    let result = try await self.attempt(task, configuration, store: store, key: key, progress: progress)
                    progress(
                        .finished(configuration: configuration.label, task: task.id, attempt: attempt, result: result))
                    // A model that cannot be reached fails every later attempt the same way: the
                    // evaluation stops with the run that shows it.
                    if result.record.status == AgentRunOutcome.Status.modelUnreachable.rawValue {
                        throw RunsError(
                            .modelUnavailable,
                            "\(configuration.label): task \(task.id) run \(result.record.runID): \(result.record.message)"
                        )
                    }
                    attempts.append(result)
                }
                tasks.append(TaskResult(task: task.id, attempts: attempts))
            }
            results.append(ConfigurationResult(configuration: configuration, tasks: tasks))
        }
        return EvaluationReport(suite: suite.name, path: suite.path.path, repeats: repeats, configurations: results)
    }

    /// One attempt: assembled, run, read back verified, judged.
    func attempt(
        _ task: EvaluationTask, _ configuration: EvaluationConfiguration, store: TraceStore, key: TraceSigningKey,
        progress: @escaping @Sendable (Progress) -> Void
    ) async throws(RunsError) -> AttemptResult {
        let model: RunRequest.ModelChoice
        var toolCalling = configuration.toolCalling
        switch configuration.model {
        case .embedded: model = .embedded
        case .endpoint(let text): model = .endpoint(text)
        case .oracle:
            // A script plays the same calls whatever the offer; native keeps its record plain.
            model = .endpoint("script:" + (task.oracle?.path ?? ""))
            if toolCalling == "auto" { toolCalling = "native" }
        }
        let request = RunRequest(
            workflow: task.workflow, parameters: task.parameters, model: model, toolCalling: toolCalling,
            preApproved: task.approve, principal: principal, approver: EvaluationApprover(),
            base: task.workflow.deletingLastPathComponent())
        let prepared: PreparedRun
        do throws(RunsError) {
            prepared = try constructor.live(request) { progress(.preparing($0)) }
        } catch {
            throw RunsError(error.code, "task \(task.id): \(error.message)", cause: error.cause)
        }
        let outcome: AgentRunOutcome
        do throws(AgentError) {
            outcome = try await prepared.run(store: store, key: key)
        } catch {
            let code: RunsError.Code =
                switch error.code {
                case .invalidWorkflow, .invalidPolicy: .invalidInput
                case .invalidParameter: .usage
                case .io: .notFound
                case .registry, .trace: .state
                }
            throw RunsError(code, "task \(task.id): [\(error.code.rawValue)] \(error)")
        }
        let recorded: RecordedRun
        do throws(ReplayError) {
            recorded = try RecordedRun(runID: outcome.runID, store: store, trustedKeys: [key.publicKey])
        } catch {
            throw RunsError(
                .state, "task \(task.id): run \(outcome.runID) cannot be read back", cause: error)
        }
        let record = try AttemptRecord(recorded)
        return AttemptResult(record: record, verdicts: task.checks.judge(record))
    }
}
