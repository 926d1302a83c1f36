import Agent
import AirlockCore
import Foundation
import Synchronization

/// Prints `airlock run`'s progress on stderr: one line per step (proposal, decision, run time),
/// and a spinner while the model generates when stderr is a terminal.
final class RunProgressPrinter: Sendable {
    private let quiet: Bool
    private let animated: Bool
    private let spinner = Mutex<Task<Void, Never>?>(nil)

    init(quiet: Bool, animated: Bool) {
        self.quiet = quiet
        self.animated = animated
    }

    /// The progress callback handed to the agent loop.
    var report: @Sendable (AgentProgress) -> Void {
        { [self] event in self.handle(event) }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Writes one line, clearing a spinner first.
    func line(_ text: String) {
        stopSpinner()
        guard !quiet else { return }
        write(text + "\n")
    }

    /// Stops the spinner, if one runs.
    func stop() { stopSpinner() }

    private func stopSpinner() {
        let task = spinner.withLock { current -> Task<Void, Never>? in
            defer { current = nil }
            return current
        }
        if let task {
            task.cancel()
            write("\r\u{1B}[2K")
        }
    }

    private func handle(_ event: AgentProgress) {
        switch event {
        case .started(let runID):
            line("run \(terminal: runID)")
        case .modelRequested(let step):
            guard !quiet else { return }
            if animated {
                let task = Task.detached { [self] in
                    let frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
                    var i = 0
                    while !Task.isCancelled {
                        self.write("\r\(frames[i % frames.count]) step \(step): the model is generating…")
                        i += 1
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                }
                spinner.withLock { $0 = task }
            } else {
                line("step \(step): asking the model…")
            }
        case .modelAnswered(let step, let seconds, let calls):
            line(
                "step \(step): model answered in \(Units.duration(seconds))\(calls > 0 ? ", \(calls) tool call(s)" : ", final answer")"
            )
        case .proposed(let id, let tool, let arguments):
            let shown = arguments.count > 200 ? String(arguments.prefix(200)) + "…" : arguments
            line("  \(terminal: id) proposed \(terminal: tool) \(terminal: shown)")
        case .malformed(let id, let problem):
            line("  \(terminal: id) malformed: \(terminal: problem)")
        case .decided(let id, let effect, let rules):
            line("  \(terminal: id) policy: \(effect.uppercased()) (\(terminal: rules.joined(separator: ", ")))")
        case .approval(let id, let granted, let approver):
            line("  \(terminal: id) approval \(granted ? "granted" : "refused") by \(terminal: approver)")
        case .executed(let id, let tool, let exitCode, let seconds):
            line("  \(terminal: id) ran \(terminal: tool): exit \(exitCode) in \(Units.duration(seconds))")
        }
    }
}
