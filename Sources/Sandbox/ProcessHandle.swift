import AirlockCore
import CSandbox

#if canImport(Glibc)
    import Glibc
#endif

/// A process held by a pidfd: once opened it names that process and no later one that reuses
/// its pid, so a signal or a wait never reaches a stranger. For processes Airlock did not spawn
/// itself in this process (the model server's detached supervisor, found through its state file):
/// waiting is a `poll` on the descriptor, which becomes readable when the process exits, not a
/// loop of `kill(pid, 0)` and sleeps.
public final class ProcessHandle: Sendable {
    /// The process id, as the state file or the caller named it.
    public let pid: Int32
    private let fd: Int32

    /// Opens `pid`; `nil` when there is no such process (or the kernel has no pidfds: then nothing
    /// can be said safely, and the caller treats the process as gone).
    public init?(pid: Int32) {
        guard pid > 0 else { return nil }
        let fd = al_pidfd_open(pid)
        guard fd >= 0 else { return nil }
        self.pid = pid
        self.fd = fd
    }

    deinit { _ = close(fd) }

    /// Whether the process has not exited yet.
    public var isRunning: Bool { !waitForExit(seconds: 0) }

    /// Waits up to `seconds` for the process to exit (0: only looks).
    /// - Returns: whether it has exited.
    public func waitForExit(seconds: Double) -> Bool {
        let deadline = ContinuousClock.now + .nanoseconds(Int64(max(seconds, 0) * 1e9))
        while true {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = ContinuousClock.now.duration(to: deadline)
            let seconds = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
            let milliseconds = left <= .zero ? 0 : Int32(clamping: Int64((seconds * 1000).rounded(.up)))
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 { return true }
            // A poll that returns early by the monotonic clock is asked again until the deadline.
            if ready == 0 {
                if milliseconds == 0 || ContinuousClock.now >= deadline { return false }
                continue
            }
            if errno != EINTR { return false }
        }
    }

    /// Sends `signal` to exactly this process.
    /// - Returns: whether it was sent (`false`: it has exited, or it is not the caller's to signal).
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        al_pidfd_send_signal(fd, signal) == 0
    }

    /// The process's command line (`/proc/PID/cmdline`, arguments joined by spaces), read while
    /// the descriptor holds it: if the process is still running afterwards, this is its own.
    public var commandLine: [String]? {
        guard let bytes = Posix.readFile("/proc/\(pid)/cmdline", limit: 65536), isRunning else { return nil }
        return bytes.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
    }
}
