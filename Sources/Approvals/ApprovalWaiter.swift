import Foundation

/// The process that waits for a request's answer: its pid and the kernel's start time for it, so
/// that a request whose run crashed is seen as orphaned even after the pid is reused.
public struct ApprovalWaiter: Sendable, Hashable {
    /// The waiting process's id.
    public var pid: Int32
    /// Its start time in clock ticks since boot (`/proc/PID/stat` field 22), or `nil` where
    /// `/proc` is not mounted (then only the deadline ends an orphaned request).
    public var startTicks: String?
    /// Where its pid means something: the kernel's boot id and pid namespace
    /// (``currentHost``), recorded by a store that many hosts share; `nil` for a store on one
    /// host (the home's SQLite file), where every waiter is this host's.
    public var host: String?

    /// Creates a waiter record.
    public init(pid: Int32, startTicks: String?, host: String? = nil) {
        self.pid = pid
        self.startTicks = startTicks
        self.host = host
    }

    /// This process.
    public static var current: ApprovalWaiter {
        let pid = ProcessInfo.processInfo.processIdentifier
        return ApprovalWaiter(pid: pid, startTicks: startTicks(of: pid), host: currentHost)
    }

    /// This process's kernel boot and pid namespace (`BOOT_ID/pid:[INODE]`), or `nil` without
    /// `/proc`: two processes with the same value see the same pids.
    public static let currentHost: String? = {
        guard
            let boot = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines),
            let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")
        else { return nil }
        return boot + "/" + namespace
    }()

    /// Whether the process still runs: its `/proc` entry exists with the same start time. Without
    /// `/proc` (or without a recorded start time), or for a waiter on another host (whose pids
    /// this one cannot see), it is taken to run, and the deadline decides.
    public var isRunning: Bool {
        guard let recorded = startTicks, FileManager.default.fileExists(atPath: "/proc/self/stat") else {
            return true
        }
        if let host, host != Self.currentHost { return true }
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
