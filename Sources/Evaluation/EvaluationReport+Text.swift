import AirlockCore
import Foundation

extension EvaluationReport {
    /// The report for people: one column per configuration (side by side under `--compare`),
    /// a row per task with its successes, then the overall rate with its 95 % interval and the
    /// means, then every attempt's run id with the first check it failed. Text that came from a
    /// model is escaped for the terminal.
    public var text: String {
        var lines: [String] = []
        let configurations = self.configurations
        lines.append(
            "suite \(suite) (\(configurations.first?.tasks.count ?? 0) tasks, \(repeats) attempt(s) each): \(path)")
        let taskWidth = max(4, configurations.first?.tasks.map(\.task.count).max() ?? 4)
        let columnWidth = max(18, configurations.map(\.configuration.label.count).max() ?? 18)
        func row(_ first: String, _ cells: [String]) -> String {
            ([first.padding(toLength: taskWidth, withPad: " ", startingAt: 0)]
                + cells.map { $0.padding(toLength: columnWidth, withPad: " ", startingAt: 0) })
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        lines.append(row("task", configurations.map(\.configuration.label)))
        for (index, task) in (configurations.first?.tasks ?? []).enumerated() {
            lines.append(
                row(
                    task.task,
                    configurations.map { configuration in
                        let result = configuration.tasks[index]
                        return "\(result.rate.successes)/\(result.rate.trials) "
                            + String(format: "%.1f steps", result.means.steps)
                    }))
        }
        lines.append(row("success", configurations.map { "\($0.overall.successes)/\($0.overall.trials)" }))
        lines.append(row("rate (95 % CI)", configurations.map(\.overall.text)))
        lines.append(row("mean steps", configurations.map { String(format: "%.1f", $0.means.steps) }))
        lines.append(
            row(
                "mean tokens in/out",
                configurations.map { String(format: "%.0f / %.0f", $0.means.inputTokens, $0.means.outputTokens) }))
        lines.append(row("mean time", configurations.map { String(format: "%.1f s", $0.means.seconds) }))
        for configuration in configurations {
            lines.append("")
            lines.append(
                "attempts under \(configuration.configuration.label) (open one with `airlock trace show RUN`):")
            for task in configuration.tasks {
                for (number, attempt) in task.attempts.enumerated() {
                    let record = attempt.record
                    var line =
                        "  \(task.task) #\(number + 1) \(attempt.passed ? "pass" : "FAIL") run \(record.runID) (\(record.status), \(record.steps) steps, "
                        + String(format: "%.1f s", record.seconds) + ")"
                    if let failure = attempt.firstFailure {
                        line += ": \(failure.check): \(TerminalText.escape(Self.short(failure.detail)))"
                    }
                    lines.append(line)
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The first 200 characters of `text` on one line.
    static func short(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }

    /// The report as JSON for machines.
    public var json: JSONValue {
        (try? JSONValueEncoder().encode(self)) ?? .object([:])
    }
}
