/// Everything known about one confined run: what ran, how it ended, what it printed, what it was
/// refused, and the evidence of how it was confined.
///
/// A non-zero exit, a signal, a timeout or an OOM kill are outcomes recorded here, not errors. The
/// record is `Codable` with stable key names; it goes into every trace, so fields are only added.
public struct ExecutionRecord: Sendable, Hashable, Codable {
    /// The schema version of this record.
    public var schema: Int = 1
    /// `argv` as executed (`argv[0]` is the program as given).
    public var argv: [String]
    /// How the program ended.
    public var termination: Termination
    /// Whether the wall-clock limit ended the run.
    public var timedOut: Bool
    /// `true` when the caller's cancellation killed the sandbox (the run it belonged to was
    /// cancelled); absent otherwise.
    public var cancelled: Bool?
    /// Whether the kernel's OOM killer ended a process in the sandbox's cgroup.
    public var oomKilled: Bool
    /// Wall-clock time from clone to the end of the sandbox, in seconds.
    public var wallSeconds: Double
    /// User CPU seconds of the sandbox's processes.
    public var userCPUSeconds: Double
    /// System CPU seconds of the sandbox's processes.
    public var systemCPUSeconds: Double
    /// Peak memory of the sandbox in bytes (cgroup peak when cgroups applied, else max RSS).
    public var peakMemoryBytes: UInt64
    /// Standard output, capped.
    public var stdout: CapturedOutput
    /// Standard error, capped.
    public var stderr: CapturedOutput
    /// Syscalls the filter refused (each failed with EPERM and the program kept running).
    public var deniedSyscalls: [DeniedSyscall]
    /// How the run was confined.
    public var confinement: ConfinementEvidence
    /// For a run with corridors (``SandboxSpec/corridors``): every connection through them and
    /// every connect refused; absent for a run without any.
    public var network: NetworkActivity?
    /// For one request to a long-lived process (``SandboxProcess/record(ofRequest:exitCode:stdout:stderr:cap:seconds:deniedSyscalls:)``,
    /// an MCP server's `tools/call`): what it was asked; absent for a run of its own. Such a
    /// record's argv and confinement are the process's, its refusals and seconds the request's,
    /// and CPU and memory are not measured per request (0).
    public var request: String? = nil

    /// The exit code a shell would report: the program's own, or 128 + signal.
    public var shellExitCode: Int32 {
        switch termination {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }
}

/// How a sandboxed program ended.
public enum Termination: Sendable, Hashable, Codable {
    /// It called `exit` with this status.
    case exited(Int32)
    /// It was killed by this signal.
    case signaled(Int32)

    private enum CodingKeys: String, CodingKey { case exitCode, signal }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let code = try c.decodeIfPresent(Int32.self, forKey: .exitCode) {
            self = .exited(code)
        } else {
            self = .signaled(try c.decode(Int32.self, forKey: .signal))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .exited(let code): try c.encode(code, forKey: .exitCode)
        case .signaled(let signal): try c.encode(signal, forKey: .signal)
        }
    }
}

extension ExecutionRecord {
    /// This record with each output stream passed through `transform` (a secret redactor): the
    /// kept bytes become the transformed text's, while the byte count and truncation stay the
    /// program's. A stream `transform` leaves as it is is kept as it is.
    public func mappingOutputs(_ transform: (String) -> String) -> ExecutionRecord {
        var copy = self
        for path in [\ExecutionRecord.stdout, \ExecutionRecord.stderr] {
            let original = self[keyPath: path]
            let text = transform(original.text)
            guard text != original.text else { continue }
            var stream = CapturedOutput(bytes: Array(text.utf8), totalBytes: original.totalBytes)
            stream.truncated = original.truncated
            copy[keyPath: path] = stream
        }
        return copy
    }
}

/// One output stream, kept up to its cap.
public struct CapturedOutput: Sendable, Hashable, Codable {
    /// The kept bytes, decoded as UTF-8 (invalid sequences replaced).
    public var text: String
    /// The kept bytes exactly.
    public var bytes: [UInt8]
    /// Every byte the program wrote, kept or dropped.
    public var totalBytes: UInt64
    /// Whether bytes past the cap were dropped.
    public var truncated: Bool

    private enum CodingKeys: String, CodingKey { case text, totalBytes, truncated, keptBytes }

    /// Creates a captured stream from the kept bytes.
    public init(bytes: [UInt8], totalBytes: UInt64) {
        self.bytes = bytes
        self.text = String(decoding: bytes, as: UTF8.self)
        self.totalBytes = totalBytes
        self.truncated = totalBytes > UInt64(bytes.count)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        text = try c.decode(String.self, forKey: .text)
        bytes = Array(text.utf8)
        totalBytes = try c.decode(UInt64.self, forKey: .totalBytes)
        truncated = try c.decode(Bool.self, forKey: .truncated)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(text, forKey: .text)
        try c.encode(UInt64(bytes.count), forKey: .keptBytes)
        try c.encode(totalBytes, forKey: .totalBytes)
        try c.encode(truncated, forKey: .truncated)
    }
}

/// A syscall the seccomp filter refused, and how often.
public struct DeniedSyscall: Sendable, Hashable, Codable {
    /// The syscall's name (`socket`, `ptrace`), or `syscall_N` when libseccomp does not know it.
    public var name: String
    /// The syscall number on this architecture.
    public var number: Int32
    /// How many times it was attempted.
    public var count: Int
    /// A short note on the first attempt's arguments where they matter (`family=AF_INET`).
    public var detail: String?
}

/// The evidence of how a run was confined: enough for a reviewer to check every layer.
public struct ConfinementEvidence: Sendable, Hashable, Codable {
    /// Namespaces the child was created in (`user`, `mnt`, `pid`, `net`, `ipc`, `uts`, `cgroup`).
    public var namespaces: [String]
    /// How the network namespace was provided: new for this run, or lent from Airlock's pool
    /// and reused sequentially (never shared by two live sandboxes). Added in schema 1; absent
    /// in records written before it.
    public var networkNamespace: String?
    /// `/proc/PID/uid_map` as written: inside, outside, count.
    public var uidMap: String
    /// `/proc/PID/gid_map` as written.
    public var gidMap: String
    /// The uid and gid the program ran as, inside the sandbox.
    public var uid: UInt32
    public var gid: UInt32
    /// The mount table built for the child, in order.
    public var mounts: [MountRecord]
    /// SHA-256 of the seccomp BPF program loaded.
    public var seccompBPFSHA256: String
    /// How refused syscalls were handled and recorded (`SECCOMP_RET_USER_NOTIF → EPERM`).
    public var seccompDenyAction: String
    /// Number of BPF instructions in the program.
    public var seccompInstructions: Int
    /// The Landlock ABI applied, or 0 when Landlock was not applied.
    public var landlockABI: Int
    /// Capabilities left in every set (always empty when the run succeeded).
    public var capabilities: String
    /// Whether `PR_SET_NO_NEW_PRIVS` was set.
    public var noNewPrivs: Bool
    /// The limits as applied.
    public var limits: AppliedLimits
    /// `v1`, `v2`, or `none` when no cgroup was used.
    public var cgroupVersion: String
    /// Layers that were missing and explicitly allowed to be (`--allow-degraded`).
    public var degradedLayers: [ConfinementLayer]
}

/// One mount in the child's new root.
public struct MountRecord: Sendable, Hashable, Codable {
    /// The path inside the sandbox.
    public var target: String
    /// What it is: `bind`, `tmpfs`, `proc`, `dev`, `symlink`, `file`.
    public var kind: String
    /// The host path for binds, the size for tmpfs, the link target for symlinks.
    public var source: String
    /// `ro` or `rw` (plus `nosuid,nodev,noexec` where applied).
    public var options: String
}

/// The limits as the kernel was told them.
public struct AppliedLimits: Sendable, Hashable, Codable {
    public var wallTimeSeconds: Double
    public var cpuSeconds: Int?
    public var memoryBytes: UInt64?
    public var maxProcesses: Int
    public var fileSizeBytes: UInt64
    public var openFiles: Int
    public var outputBytesPerStream: Int
    public var tmpSizeBytes: UInt64
    /// Where the memory and process limits were enforced (`cgroup v1`, `cgroup v2`, `rlimit`).
    public var enforcement: String
}
