import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINT (Ctrl-C) and SIGTERM while `airlock run` runs a workflow: the first cancels the run
/// (the agent records its ending: `cancelled`); a second exits at once, leaving the run
/// incomplete but verifiable, signed through its last completed step.
///
/// Signals are taken from a dispatch source (the process ignores their default action while the
/// run is on), so nothing runs in a signal handler; what is done with them is the caller's.
final class RunSignals: Sendable {
    /// The signals a run handles.
    static let handled: [Int32] = [SIGINT, SIGTERM]

    /// The reason recorded for a signal (what the `error` event of stage `cancel` says).
    static func reason(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: "interrupted by SIGINT (Ctrl-C)"
        case SIGTERM: "terminated by SIGTERM"
        default: "stopped by signal \(signal)"
        }
    }

    /// The signal's name.
    static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(signal)"
        }
    }

    /// Kept alive for as long as the run is (dispatch sources are not marked Sendable; they are
    /// only made here).
    private nonisolated(unsafe) let sources: [any DispatchSourceSignal]
    /// The signals received, in order (shared with the sources' handler).
    private final class Received: Sendable {
        let signals = Mutex<[Int32]>([])
    }

    private let received = Received()

    /// The first signal received, if any.
    var first: Int32? { received.signals.withLock { $0.first } }

    /// Starts handling the signals.
    /// - Parameters:
    ///   - onFirst: called (on a dispatch queue) with the first signal.
    ///   - onSecond: called with any later one, or with a first that came twice at once; it must
    ///     not return (it exits the process).
    init(onFirst: @escaping @Sendable (Int32) -> Void, onSecond: @escaping @Sendable (Int32) -> Never) {
        let queue = DispatchQueue(label: "airlock.run.signals")
        let received = self.received
        sources = Self.handled.map { number in
            // Ignored before the source takes it, as dispatch requires: no default action runs.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                // Signals that arrive together are counted as one event.
                let count = max(Int(source.data), 1)
                let earlier = received.signals.withLock { list -> Int in
                    defer { list += Array(repeating: number, count: count) }
                    return list.count
                }
                if earlier == 0 && count == 1 {
                    onFirst(number)
                } else {
                    onSecond(number)
                }
            }
            source.resume()
            return source
        }
    }

    /// The exit code a shell gives a process its signal ended: 128 + the signal's number.
    static func exitCode(_ signal: Int32) -> Int32 { 128 + signal }

    /// Exits the process at once with ``exitCode(_:)`` (no cleanup runs: the trace's last
    /// committed transaction stands).
    /// The corresponding C function is `_exit`.
    static func exitNow(_ signal: Int32) -> Never {
        _exit(exitCode(signal))
    }
}
