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
    /// Mean model requests per attempt.
    public var meanSteps: Double
    /// Mean prompt tokens per attempt.
    public var meanInputTokens: Double
    /// Mean generated tokens per attempt.
    public var meanOutputTokens: Double
    /// Mean seconds per attempt, on the trace's clock.
    public var meanSeconds: Double

    /// Sums up `tasks`.
    init(configuration: EvaluationConfiguration, tasks: [TaskResult]) {
        self.configuration = configuration
        self.tasks = tasks
        let attempts = tasks.flatMap(\.attempts)
        overall = WilsonInterval(successes: attempts.filter(\.passed).count, trials: attempts.count)
        (meanSteps, meanInputTokens, meanOutputTokens, meanSeconds) = AttemptResult.means(attempts)
    }

    enum CodingKeys: String, CodingKey {
        case configuration, tasks, overall
        case meanSteps = "mean_steps"
        case meanInputTokens = "mean_input_tokens"
        case meanOutputTokens = "mean_output_tokens"
        case meanSeconds = "mean_seconds"
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
    /// Mean model requests per attempt.
    public var meanSteps: Double
    /// Mean prompt tokens per attempt.
    public var meanInputTokens: Double
    /// Mean generated tokens per attempt.
    public var meanOutputTokens: Double
    /// Mean seconds per attempt.
    public var meanSeconds: Double

    init(task: String, attempts: [AttemptResult]) {
        self.task = task
        self.attempts = attempts
        rate = WilsonInterval(successes: attempts.filter(\.passed).count, trials: attempts.count)
        (meanSteps, meanInputTokens, meanOutputTokens, meanSeconds) = AttemptResult.means(attempts)
    }

    enum CodingKeys: String, CodingKey {
        case task, attempts, rate
        case meanSteps = "mean_steps"
        case meanInputTokens = "mean_input_tokens"
        case meanOutputTokens = "mean_output_tokens"
        case meanSeconds = "mean_seconds"
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

    /// Means of steps, prompt tokens, generated tokens and seconds (zeros for no attempts).
    static func means(_ attempts: [AttemptResult]) -> (Double, Double, Double, Double) {
        guard !attempts.isEmpty else { return (0, 0, 0, 0) }
        let n = Double(attempts.count)
        return (
            Double(attempts.map(\.record.steps).reduce(0, +)) / n,
            Double(attempts.map(\.record.inputTokens).reduce(0, +)) / n,
            Double(attempts.map(\.record.outputTokens).reduce(0, +)) / n,
            attempts.map(\.record.seconds).reduce(0, +) / n
        )
    }

    /// The first failed check, for a one-line reason.
    public var firstFailure: CheckVerdict? { verdicts.first { !$0.passed } }
}
