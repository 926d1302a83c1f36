import Foundation
import Synchronization

/// Where event times come from: nanoseconds since the Unix epoch.
///
/// Injected so that tests and replays produce byte-identical traces.
public struct TraceClock: Sendable {
    /// Returns the current time in nanoseconds since 1970-01-01T00:00:00Z.
    public var now: @Sendable () -> Int64

    /// Creates a clock from a function.
    public init(now: @escaping @Sendable () -> Int64) {
        self.now = now
    }

    /// The system's wall clock.
    public static let system = TraceClock {
        Int64((Date().timeIntervalSince1970 * 1_000_000_000).rounded())
    }

    /// A clock starting at `start` that advances by `step` nanoseconds on every reading.
    /// - Parameters:
    ///   - start: the first reading (default 2025-01-01T00:00:00Z).
    ///   - step: the increment per reading (default 1 ms).
    public static func stepping(start: Int64 = 1_735_689_600_000_000_000, step: Int64 = 1_000_000) -> TraceClock {
        let counter = Mutex<Int64>(start)
        return TraceClock {
            counter.withLock { value in
                defer { value += step }
                return value
            }
        }
    }

    /// A clock that reads `times` back in order, then steps on by 1 ms from the last: a replay
    /// records its events at the times the run recorded them.
    public static func playback(_ times: [Int64]) -> TraceClock {
        let index = Mutex<Int>(0)
        let last = times.last ?? 1_735_689_600_000_000_000
        return TraceClock {
            index.withLock { i in
                defer { i += 1 }
                return i < times.count ? times[i] : last + Int64(i - times.count + 1) * 1_000_000
            }
        }
    }
}
