import Agent
import RunEvents

/// The cancellation's stand-in during a replay: a run recorded as cancelled is cancelled again
/// at the very point it was, with the recorded reason. The point is the `error` event of stage
/// `cancel`: the replay is cancelled when it has recorded as many events as came before it.
public struct RecordedCancellation: RunCancellation {
    /// How many events the run had recorded when it was cancelled, or `nil` if it never was.
    public let afterEvents: Int64?
    /// The recorded reason.
    public let reason: String

    /// The stand-in of a run's typed events (in order, `run.started` first).
    public init(events: [RunEvent]) {
        for (index, event) in events.enumerated() {
            if case .error(let error) = event, error.stage == AgentLoop.cancellationStage {
                afterEvents = Int64(index)
                reason = error.message
                return
            }
        }
        afterEvents = nil
        reason = ""
    }

    /// The recorded reason at the recorded point, else `nil`.
    public func reason(afterEvents events: Int64) -> String? {
        events == afterEvents ? reason : nil
    }
}
