import AirlockCore

/// What to run in a confined child and how tightly to hold it.
///
/// A spec names the program, its arguments, the only environment it sees, the host paths it may
/// see (read-only or read-write), where its standard input comes from, and the limits. Everything
/// not named is absent: no host file, no network, no inherited variable.
public struct SandboxSpec: Sendable, Hashable {
    /// The program: an absolute path inside the sandbox, or a name looked up on the sandbox's `PATH`.
    public var program: String
    /// Arguments after `argv[0]` (which is `program` itself).
    public var arguments: [String]
    /// The complete environment of the child; nothing of the host's is added.
    public var environment: [String: String]
    /// Host paths made visible inside, each read-only or read-write.
    public var mounts: [BindMount]
    /// The directory the program starts in, as seen inside the sandbox.
    public var workingDirectory: String
    /// Where the program's standard input comes from.
    public var stdin: StandardInput
    /// Time, CPU, memory, process, file and output limits.
    public var limits: SandboxLimits
    /// Extra syscall groups beyond the default allowlist (a tool manifest's `seccomp` field).
    public var syscallGroups: Set<SyscallGroup>
    /// The sandbox's hostname (its own UTS namespace).
    public var hostname: String
    /// Whether `/dev/tty` is made available (off by default).
    public var allowTTY: Bool
    /// Confinement layers the caller explicitly accepts to run without; each one missing is recorded.
    public var allowDegraded: Set<ConfinementLayer>
    /// Corridors: the only places the program can reach, each a declared name and port inside
    /// the sandbox that Airlock forwards to one internal address outside it (``Corridor``).
    /// With any, the program may make TCP client sockets and connect to these only (others are
    /// refused and recorded in ``ExecutionRecord/network``). Default none: no network at all.
    public var corridors: [Corridor] = []
    /// Bounds on what the program may move through its corridors in this run.
    public var corridorLimits = CorridorLimits()

    /// Creates a spec; every parameter but the program has a closed default.
    public init(
        program: String,
        arguments: [String] = [],
        environment: [String: String] = ["PATH": SandboxSpec.defaultPath],
        mounts: [BindMount] = [],
        workingDirectory: String = "/",
        stdin: StandardInput = .null,
        limits: SandboxLimits = SandboxLimits(),
        syscallGroups: Set<SyscallGroup> = [],
        hostname: String = SandboxSpec.defaultHostname,
        allowTTY: Bool = false,
        allowDegraded: Set<ConfinementLayer> = []
    ) {
        self.program = program
        self.arguments = arguments
        self.environment = environment
        self.mounts = mounts
        self.workingDirectory = workingDirectory
        self.stdin = stdin
        self.limits = limits
        self.syscallGroups = syscallGroups
        self.hostname = hostname
        self.allowTTY = allowTTY
        self.allowDegraded = allowDegraded
    }

    /// The hostname a sandbox gets when the caller does not name one.
    public static let defaultHostname = "airlock"

    /// The `PATH` a sandboxed program gets when the caller does not set one.
    public static let defaultPath = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
}

/// One corridor: inside the sandbox `host` resolves (through its `/etc/hosts`) to
/// `insideAddress`, where Airlock listens on `port` in the sandbox's own network namespace; each
/// connection accepted there is forwarded to `address:port` outside, and recorded.
public struct Corridor: Sendable, Hashable, Codable {
    /// The name the program uses, as declared.
    public var host: String
    /// The TCP port, the same inside and outside.
    public var port: UInt16
    /// Where Airlock connects: a numeric IPv4 or IPv6 address, resolved outside the sandbox.
    public var address: String
    /// The address `host` resolves to inside: IPv4 in 127.0.0.0/8 (one per distinct host).
    public var insideAddress: String
    /// For an HTTP corridor: the methods and paths each request must match; `nil`: TCP (bytes
    /// forwarded as they are, TLS included).
    public var http: HTTPRules?

    /// Creates a corridor.
    public init(host: String, port: UInt16, address: String, insideAddress: String, http: HTTPRules? = nil) {
        self.host = host
        self.port = port
        self.address = address
        self.insideAddress = insideAddress
        self.http = http
    }

    /// Most corridors one run may have (`AL_MAX_LOOPBACK_PORTS`).
    public static let maximumPerRun = 16

    /// The inside address `index` (0-based) of a run's distinct hosts gets: 127.1.0.(index + 1),
    /// clear of 127.0.0.1 (`localhost`, the sandbox's own).
    public static func insideAddress(forHostAt index: Int) -> String { "127.1.0.\(index + 1)" }

    /// Whether `text` is a numeric IPv4 or IPv6 address (what ``address`` must be).
    public static func isNumericAddress(_ text: String) -> Bool { Posix.socketAddress(text, port: 0) != nil }

    /// The inside address as a host-order integer, when it is dotted IPv4 in 127.0.0.0/8.
    var insideLoopback: UInt32? {
        let parts = insideAddress.split(separator: ".", omittingEmptySubsequences: false).map { UInt32($0) }
        guard parts.count == 4, parts.allSatisfy({ ($0 ?? 256) <= 255 }), parts[0] == 127 else { return nil }
        return parts.reduce(0) { $0 << 8 | ($1 ?? 0) }
    }
}

/// What an HTTP corridor lets through: one HTTP/1.1 request per connection (Airlock asks the
/// service to close after it), whose method is one of ``methods`` and whose path matches one of
/// ``paths``. Anything else is answered by Airlock (403, 400, 431) and never reaches the service.
public struct HTTPRules: Sendable, Hashable, Codable {
    /// Allowed methods, uppercase (`GET`, `POST`).
    public var methods: [String]
    /// Allowed paths: absolute, each segment literal or `*` (any one segment); a last segment
    /// `**` matches the rest of the path, however deep (`/api/tickets/**`).
    public var paths: [String]
    /// The largest request head (request line and headers) accepted, in bytes. Default 16 KiB.
    public var maxHeaderBytes: Int

    /// The default ``maxHeaderBytes``: 16 KiB.
    public static let defaultMaxHeaderBytes = 16 << 10

    /// Creates rules.
    public init(methods: [String], paths: [String], maxHeaderBytes: Int = HTTPRules.defaultMaxHeaderBytes) {
        self.methods = methods
        self.paths = paths
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// Whether `method` and `path` (a request's, without its query) are allowed.
    public func allows(method: String, path: String) -> Bool {
        methods.contains(method) && paths.contains { Self.matches($0, path) }
    }

    /// Whether `path` matches `pattern` (see ``paths``).
    public static func matches(_ pattern: String, _ path: String) -> Bool {
        let want = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        let have = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var w = want.startIndex
        var h = have.startIndex
        while w < want.endIndex {
            if want[w] == "**" && want.index(after: w) == want.endIndex { return h < have.endIndex }
            guard h < have.endIndex, want[w] == "*" ? !have[h].isEmpty : want[w] == have[h] else { return false }
            w = want.index(after: w)
            h = have.index(after: h)
        }
        return h == have.endIndex
    }

    /// Whether `pattern` is one ``paths`` may hold: absolute, no empty, `.` or `..` segment
    /// (but a lone `/`), `**` only last, no `%`, `?` or `#`.
    public static func isPattern(_ pattern: String) -> Bool {
        guard pattern.hasPrefix("/"), !pattern.contains(where: { "%?#\\".contains($0) || $0.isWhitespace }) else {
            return false
        }
        if pattern == "/" { return true }
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (offset, segment) in segments.enumerated() {
            if segment.isEmpty || segment == "." || segment == ".." { return false }
            if segment == "**" && offset != segments.count - 1 { return false }
            if segment.contains("*") && segment != "*" && segment != "**" { return false }
        }
        return true
    }
}

/// What a run may move through its corridors; each bound, once reached, is recorded.
public struct CorridorLimits: Sendable, Hashable, Codable {
    /// Connections accepted per run; further ones are closed at once and recorded as refused.
    /// Default 32.
    public var maxConnections: Int
    /// Bytes moved per run, both ways and all connections together; reaching it cuts every
    /// open connection. Default 64 MiB.
    public var maxBytes: UInt64
    /// How long Airlock waits to connect to a corridor's address. Default 5 s.
    public var connectTimeoutSeconds: Double

    /// Creates limits with the documented defaults.
    public init(maxConnections: Int = 32, maxBytes: UInt64 = 64 << 20, connectTimeoutSeconds: Double = 5) {
        self.maxConnections = maxConnections
        self.maxBytes = maxBytes
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }
}

/// A host path bound into the sandbox.
public struct BindMount: Sendable, Hashable, Codable {
    /// Absolute host path (file or directory).
    public var source: String
    /// Absolute path inside the sandbox.
    public var target: String
    /// Whether the child may write through this mount.
    public var writable: Bool

    /// Binds `source` at `target` (the same path when `target` is omitted).
    public init(source: String, target: String? = nil, writable: Bool) {
        self.source = source
        self.target = target ?? source
        self.writable = writable
    }
}

/// Where a sandboxed program reads its standard input from.
public enum StandardInput: Sendable, Hashable {
    /// `/dev/null`.
    case null
    /// A host file, opened read-only by Airlock before the child starts.
    case file(String)
    /// Bytes written to a pipe by Airlock (bounded by the pipe's buffer is not assumed: written as read).
    case bytes([UInt8])
}

/// The limits applied to one run. Every bound is named and has a documented default.
public struct SandboxLimits: Sendable, Hashable, Codable {
    /// Wall-clock time before the whole sandbox is killed. Default 30 s.
    public var wallTimeSeconds: Double
    /// CPU seconds (`RLIMIT_CPU`, per process). Default none.
    public var cpuSeconds: Int?
    /// Memory in bytes for the whole sandbox (cgroup `memory.max` / `memory.limit_in_bytes`). Default none.
    public var memoryBytes: UInt64?
    /// Processes and threads in the whole sandbox (cgroup `pids.max`, and `RLIMIT_NPROC` inside the
    /// sandbox's own user namespace). Default 256.
    public var maxProcesses: Int
    /// Largest file the program may write (`RLIMIT_FSIZE`). Default 64 MiB.
    public var fileSizeBytes: UInt64
    /// Open file descriptors per process (`RLIMIT_NOFILE`). Default 256.
    public var openFiles: Int
    /// Bytes of standard output and of standard error kept; the rest is read, counted and dropped.
    /// Default 1 MiB per stream.
    public var outputBytesPerStream: Int
    /// Size of the private `/tmp` (tmpfs). Default 64 MiB.
    public var tmpSizeBytes: UInt64

    /// The default size of the private `/tmp`: 64 MiB.
    public static let defaultTmpSizeBytes: UInt64 = 64 << 20

    /// Creates limits with the documented defaults.
    public init(
        wallTimeSeconds: Double = 30,
        cpuSeconds: Int? = nil,
        memoryBytes: UInt64? = nil,
        maxProcesses: Int = 256,
        fileSizeBytes: UInt64 = 64 << 20,
        openFiles: Int = 256,
        outputBytesPerStream: Int = 1 << 20,
        tmpSizeBytes: UInt64 = SandboxLimits.defaultTmpSizeBytes
    ) {
        self.wallTimeSeconds = wallTimeSeconds
        self.cpuSeconds = cpuSeconds
        self.memoryBytes = memoryBytes
        self.maxProcesses = maxProcesses
        self.fileSizeBytes = fileSizeBytes
        self.openFiles = openFiles
        self.outputBytesPerStream = outputBytesPerStream
        self.tmpSizeBytes = tmpSizeBytes
    }
}

/// Named groups of syscalls a tool may ask for beyond the default allowlist.
public enum SyscallGroup: String, Sendable, Hashable, Codable, CaseIterable {
    /// `ptrace`-free process introspection is already allowed; this adds `personality`, `mlock*`,
    /// `sched_setscheduler` and friends some runtimes (JVMs, databases) need.
    case processTuning = "process-tuning"
    /// `chroot` for tools that confine themselves further.
    case selfConfine = "self-confine"
}

/// One layer of confinement, as named in errors, evidence and `--allow-degraded`.
public enum ConfinementLayer: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case userNamespace = "user-namespace"
    case seccomp
    case seccompNotify = "seccomp-notify"
    case landlock
    case cgroups

    public static func < (lhs: ConfinementLayer, rhs: ConfinementLayer) -> Bool { lhs.rawValue < rhs.rawValue }
}
