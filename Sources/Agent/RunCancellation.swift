import Synchronization

/// What tells the loop to end its run as `cancelled`: in a live run, the run's task being
/// cancelled (a front door's Ctrl-C); in a replay, the point at which the recorded run was.
///
/// The loop asks at fixed points, always at a given count of recorded events: before each step,
/// after recording a model request (before asking the model, and again if the request was
/// abandoned), around an approval a person is asked for, before a tool runs and after its
/// execution is recorded. Each point sits after an event of a different type, so "cancelled after
/// N events" names one point, and a replay that stops at the recorded count records the same
/// ending at the same event.
public protocol RunCancellation: Sendable {
    /// Why the run is to end now, or `nil` to go on.
    /// - Parameter events: how many events the run has recorded so far (`run.started` is 1).
    /// - Returns: the reason, as the `error` event of stage `cancel` records it.
    func reason(afterEvents events: Int64) -> String?
}

/// A live run's cancellation: the run's task is cancelled, and the front door that cancels it
/// says why first (``request(_:)``).
public final class TaskCancellation: RunCancellation {
    /// The reason recorded when the task was cancelled without one.
    public static let defaultReason = "the run's task was cancelled"

    private let requested = Mutex<String?>(nil)

    /// Creates a cancellation that has not been requested.
    public init() {}

    /// Records why the run is being cancelled; the caller then cancels the run's task. The first
    /// reason given is kept.
    /// - Parameter reason: for the trace and the analyst (`interrupted by SIGINT (Ctrl-C)`).
    public func request(_ reason: String) {
        requested.withLock { current in
            if current == nil { current = reason }
        }
    }

    /// The requested reason once the calling task is cancelled, else `nil`.
    public func reason(afterEvents events: Int64) -> String? {
        guard Task.isCancelled else { return nil }
        return requested.withLock { $0 } ?? Self.defaultReason
    }
}
