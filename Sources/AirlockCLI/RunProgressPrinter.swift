import Agent
import AirlockCore
import Foundation
import Synchronization

/// Prints `airlock run`'s progress on stderr: one line per step (proposal, decision, run time),
/// and a spinner while the model generates when stderr is a terminal (the cursor hidden while it
/// spins, shown again whenever it stops, an early exit included).
final class RunProgressPrinter: Sendable {
    private let quiet: Bool
    private let animated: Bool
    /// One JSON object per event on stderr instead of lines (`--progress json`).
    private let json: Bool

    /// The spinner's task and whether it may still draw; frames and clearing are written under
    /// this lock, so no frame is drawn after the line was cleared.
    private struct Spinner {
        var task: Task<Void, Never>?
        var drawing = false
        /// When the step's request went out, and the tokens streamed so far.
        var since = ContinuousClock.now
        var tokens = 0
    }

    private let spinner = Mutex(Spinner())

    /// The control sequences the spinner uses: back to the line's start, erase it; hide and show
    /// the cursor.
    static let clearLine = "\r\u{1B}[2K"
    static let hideCursor = "\u{1B}[?25l"
    static let showCursor = "\u{1B}[?25h"

    init(quiet: Bool, animated: Bool, json: Bool = false) {
        self.quiet = quiet
        self.animated = animated && !json
        self.json = json
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

    /// Leaves the terminal as it was before the run: the spinner's line cleared, the cursor shown
    /// (also when no spinner ran, so that an exit at any moment restores it).
    func restoreTerminal() {
        stopSpinner()
        if animated && !quiet { write(Self.clearLine + Self.showCursor) }
    }

    private func stopSpinner() {
        let task = spinner.withLock { state -> Task<Void, Never>? in
            defer { state = Spinner() }
            if state.drawing { write(Self.clearLine + Self.showCursor) }
            return state.task
        }
        task?.cancel()
    }

    private func startSpinner(step: Int) {
        stopSpinner()
        // Started under the lock, so that its first frame already sees it may draw.
        spinner.withLock { state in
            write(Self.hideCursor)
            state.drawing = true
            state.since = ContinuousClock.now
            state.tokens = 0
            state.task = Task.detached { [self] in
                let frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
                var i = 0
                while !Task.isCancelled {
                    let drawn = self.spinner.withLock { state -> Bool in
                        guard state.drawing else { return false }
                        let seconds = Self.seconds(ContinuousClock.now - state.since)
                        self.write(
                            "\r\(frames[i % frames.count]) step \(step): the model is generating… "
                                + Self.generated(tokens: state.tokens, seconds: seconds) + "\u{1B}[K")
                        return true
                    }
                    guard drawn else { return }
                    i += 1
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }

    /// `4.2 s` while nothing streamed, else `4.2 s, 57 tokens, 13.6 tokens/s`.
    static func generated(tokens: Int?, seconds: Double) -> String {
        let elapsed = Units.duration(seconds)
        guard let tokens, tokens > 0 else { return elapsed }
        return "\(elapsed), " + rate(tokens: tokens, seconds: seconds)
    }

    /// `57 tokens, 13.6 tokens/s`.
    static func rate(tokens: Int, seconds: Double) -> String {
        let perSecond = seconds > 0 ? (Double(tokens) / seconds * 10).rounded() / 10 : 0
        return "\(tokens) token\(tokens == 1 ? "" : "s"), \(perSecond) tokens/s"
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func handle(_ event: AgentProgress) {
        if json {
            guard !quiet else { return }
            // Escaped as JSON: the values hold what the model and the tools wrote.
            write(event.json.canonicalString + "\n")
            return
        }
        switch event {
        case .started(let runID):
            line("run \(terminal: runID)")
        case .modelRequested(let step):
            guard !quiet else { return }
            if animated {
                startSpinner(step: step)
            } else {
                line("step \(step): asking the model…")
            }
        case .generating(_, let tokens, _):
            spinner.withLock { $0.tokens = tokens }
        case .modelAnswered(let step, let seconds, let calls, let tokens):
            let generated = tokens.map { $0 > 0 ? " (" + Self.rate(tokens: $0, seconds: seconds) + ")" : "" } ?? ""
            line(
                "step \(step): model answered in \(Units.duration(seconds))\(generated)\(calls > 0 ? ", \(calls) tool call(s)" : ", final answer")"
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
        case .executed(let id, let tool, let exitCode, let seconds, let stderrTail):
            line("  \(terminal: id) ran \(terminal: tool): exit \(exitCode) in \(Units.duration(seconds))")
            for text in (stderrTail ?? "").split(separator: "\n") { line("    stderr: \(terminal: String(text))") }
        case .repeated(let id, let earlier):
            line("  \(terminal: id) repeats \(terminal: earlier): answered from the record, not run again")
        }
    }
}
