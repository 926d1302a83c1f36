import Agent
import AirlockCore
import Foundation

/// A suite: tasks over a site's data, each a workflow with its parameters and the checks its
/// outcome must pass. The YAML (`airlock_eval: 1`) is described in docs/evaluation.md; the
/// shipped one is `manifests/evaluations/sample-site.yaml`.
public struct EvaluationSuite: Sendable, Hashable {
    /// The suite's name (letters, digits, `-`, `_`, `.`).
    public var name: String
    /// What it measures, for a person.
    public var description: String?
    /// The file it was read from.
    public var path: URL
    /// The tasks, in the file's order.
    public var tasks: [EvaluationTask]

    /// The document version this Airlock reads.
    public static let version: Int64 = 1
    /// The most tasks a suite may hold.
    public static let maxTasks = 200

    /// Creates a suite.
    public init(name: String, description: String? = nil, path: URL, tasks: [EvaluationTask]) {
        self.name = name
        self.description = description
        self.path = path
        self.tasks = tasks
    }
}

/// One task of a suite.
public struct EvaluationTask: Sendable, Hashable {
    /// The task's id in the suite (letters, digits, `-`, `_`, `.`), unique.
    public var id: String
    /// What the task asks, for a person.
    public var description: String?
    /// The workflow file (relative paths are taken from the suite's directory).
    public var workflow: URL
    /// The workflow's task parameters, as text.
    public var parameters: [String: String]
    /// Tools whose `ask` decisions are approved in advance for this task (as `run --approve`);
    /// any other question is refused at once, as nobody is there to answer during an evaluation.
    public var approve: [String]
    /// The scripted model that does the task right (a `script:` file): what `--model oracle`
    /// runs, so that the checks are themselves shown to pass.
    public var oracle: URL?
    /// What the outcome must show.
    public var checks: EvaluationChecks

    /// Creates a task.
    public init(
        id: String, description: String? = nil, workflow: URL, parameters: [String: String] = [:],
        approve: [String] = [], oracle: URL? = nil, checks: EvaluationChecks = EvaluationChecks()
    ) {
        self.id = id
        self.description = description
        self.workflow = workflow
        self.parameters = parameters
        self.approve = approve
        self.oracle = oracle
        self.checks = checks
    }
}

/// What an attempt's outcome must show for the attempt to count as a success. Every check is
/// read from the attempt's verified trace (``AttemptRecord``).
public struct EvaluationChecks: Sendable, Hashable, Codable {
    /// The status `run.finished` must record (default `succeeded`).
    public var status: String
    /// Facts the final answer must contain: each entry is a list of alternatives, one of which
    /// must occur (compared case-insensitively, blanks collapsed).
    public var answerContains: [[String]]
    /// Text the final answer must not contain (case-insensitive).
    public var answerExcludes: [String]
    /// Facts the files the run's calls wrote to the workspace must hold together (each entry a
    /// list of alternatives, as ``answerContains``).
    public var notesContain: [[String]]
    /// Tools that must have run (executed in the sandbox) at least once.
    public var called: [String]
    /// Tools that must not have been proposed at all.
    public var notCalled: [String]
    /// No call may have been refused (policy, approval, a call that could not run) (default true).
    public var noRefusals: Bool
    /// The most model requests the run may have made, or `nil` for the workflow's budget alone.
    public var maxSteps: Int?

    /// Creates checks; the defaults ask for a `succeeded` run with no refusals.
    public init(
        status: String = AgentRunOutcome.Status.succeeded.rawValue, answerContains: [[String]] = [],
        answerExcludes: [String] = [], notesContain: [[String]] = [], called: [String] = [], notCalled: [String] = [],
        noRefusals: Bool = true, maxSteps: Int? = nil
    ) {
        self.status = status
        self.answerContains = answerContains
        self.answerExcludes = answerExcludes
        self.notesContain = notesContain
        self.called = called
        self.notCalled = notCalled
        self.noRefusals = noRefusals
        self.maxSteps = maxSteps
    }

    enum CodingKeys: String, CodingKey {
        case status
        case answerContains = "answer_contains"
        case answerExcludes = "answer_excludes"
        case notesContain = "notes_contain"
        case called
        case notCalled = "not_called"
        case noRefusals = "no_refusals"
        case maxSteps = "max_steps"
    }
}
