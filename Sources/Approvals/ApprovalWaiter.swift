import Foundation

/// The process that waits for a request's answer: its pid and the kernel's start time for it, so
/// that a request whose run crashed is seen as orphaned even after the pid is reused.
public struct ApprovalWaiter: Sendable, Hashable {
    /// The waiting process's id.
    public var pid: Int32
    /// Its start time in clock ticks since boot (`/proc/PID/stat` field 22), or `nil` where
    /// `/proc` is not mounted (then only the deadline ends an orphaned request).
    public var startTicks: String?

    /// Creates a waiter record.
    public init(pid: Int32, startTicks: String?) {
        self.pid = pid
        self.startTicks = startTicks
    }

    /// This process.
    public static var current: ApprovalWaiter {
        let pid = ProcessInfo.processInfo.processIdentifier
        return ApprovalWaiter(pid: pid, startTicks: startTicks(of: pid))
    }

    /// Whether the process still runs: its `/proc` entry exists with the same start time. Without
    /// `/proc` (or without a recorded start time) it is taken to run, and the deadline decides.
    public var isRunning: Bool {
        guard let recorded = startTicks, FileManager.default.fileExists(atPath: "/proc/self/stat") else {
            return true
        }
        return Self.startTicks(of: pid) == recorded
    }

    /// Field 22 of `/proc/PID/stat`, read after the command name's closing parenthesis (a command
    /// name may hold spaces and parentheses itself).
    static func startTicks(of pid: Int32) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After ") " come fields 3, 4, …: the start time is field 22, the 20th of these.
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count >= 20 ? String(fields[19]) : nil
    }
}
