/// What an evaluation found: for each configuration, each task's attempts with their verdicts and
/// run ids, the success rates with their 95 % Wilson intervals, and the means of steps, tokens and
/// time. Rendered for people (``text``) or machines (`--json`, the Codable form).
public struct EvaluationReport: Sendable, Hashable, Codable {
    /// The suite's name.
    public var suite: String
    /// The suite file.
    public var path: String
    /// Attempts per task and configuration.
    public var repeats: Int
    /// One result per configuration, in the order asked.
    public var configurations: [ConfigurationResult]

    /// Whether every attempt of every configuration passed every check.
    public var allPassed: Bool { configurations.allSatisfy { $0.overall.successes == $0.overall.trials } }

    enum CodingKeys: String, CodingKey {
        case suite, path, repeats, configurations
    }
}

/// One configuration's results over the suite.
public struct ConfigurationResult: Sendable, Hashable, Codable {
    /// The configuration.
    public var configuration: EvaluationConfiguration
    /// Each task's results, in the suite's order.
    public var tasks: [TaskResult]
    /// Every attempt of every task: successes, trials, rate and interval.
    public var overall: WilsonInterval
    /// Means over every attempt.
    public var means: AttemptMeans

    /// Sums up `tasks`.
    init(configuration: EvaluationConfiguration, tasks: [TaskResult]) {
        self.configuration = configuration
        self.tasks = tasks
        let attempts = tasks.flatMap(\.attempts)
        overall = WilsonInterval(successes: attempts.filter(\.passed).count, trials: attempts.count)
        means = AttemptMeans(attempts)
    }
}

/// One task's attempts under one configuration.
public struct TaskResult: Sendable, Hashable, Codable {
    /// The task's id.
    public var task: String
    /// Its attempts, in order.
    public var attempts: [AttemptResult]
    /// Successes of trials, with the 95 % interval.
    public var rate: WilsonInterval
    /// Means over the task's attempts.
    public var means: AttemptMeans

    init(task: String, attempts: [AttemptResult]) {
        self.task = task
        self.attempts = attempts
        rate = WilsonInterval(successes: attempts.filter(\.passed).count, trials: attempts.count)
        means = AttemptMeans(attempts)
    }
}

/// Means per attempt: model requests, prompt and generated tokens, seconds on the trace's clock
/// (zeros for no attempts).
public struct AttemptMeans: Sendable, Hashable, Codable {
    /// Model requests.
    public var steps: Double
    /// Prompt tokens the server reported.
    public var inputTokens: Double
    /// Generated tokens the server reported.
    public var outputTokens: Double
    /// Seconds from `run.started` to `run.finished`.
    public var seconds: Double

    init(_ attempts: [AttemptResult]) {
        let n = Double(max(attempts.count, 1))
        steps = Double(attempts.map(\.record.steps).reduce(0, +)) / n
        inputTokens = Double(attempts.map(\.record.inputTokens).reduce(0, +)) / n
        outputTokens = Double(attempts.map(\.record.outputTokens).reduce(0, +)) / n
        seconds = attempts.map(\.record.seconds).reduce(0, +) / n
    }

    enum CodingKeys: String, CodingKey {
        case steps, seconds
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
    }
}

/// One attempt: its recorded run and the checks' verdicts on it.
public struct AttemptResult: Sendable, Hashable, Codable {
    /// What the run did, from its verified trace.
    public var record: AttemptRecord
    /// Each check's verdict.
    public var verdicts: [CheckVerdict]
    /// Whether every check passed.
    public var passed: Bool { verdicts.allSatisfy(\.passed) }

    enum CodingKeys: String, CodingKey {
        case record, verdicts, passed
    }

    public init(record: AttemptRecord, verdicts: [CheckVerdict]) {
        self.record = record
        self.verdicts = verdicts
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        record = try container.decode(AttemptRecord.self, forKey: .record)
        verdicts = try container.decode([CheckVerdict].self, forKey: .verdicts)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record, forKey: .record)
        try container.encode(verdicts, forKey: .verdicts)
        try container.encode(passed, forKey: .passed)
    }

    /// The first failed check, for a one-line reason.
    public var firstFailure: CheckVerdict? { verdicts.first { !$0.passed } }
}
