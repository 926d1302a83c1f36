import AirlockCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How this host's cgroups can hold a sandbox: v2 (unified, with the memory and pids
/// controllers delegated to us) or v1 (separate memory and pids hierarchies), or not at all.
///
/// Sandboxes are nested under Airlock's own cgroup on v1, so a limit on Airlock also holds its
/// tools; on v2 as root they go under `/sys/fs/cgroup/airlock`, whose controllers Airlock enables.
public struct CgroupSupport: Sendable, Codable, Hashable {
    /// `v2`, `v1` or `none`.
    public var version: String
    /// Where per-run memory cgroups are created (the v2 base, or the v1 memory base).
    public var memoryBase: String?
    /// Where per-run pids cgroups are created on v1 (the same as `memoryBase` on v2).
    public var pidsBase: String?
    /// Whether per-run cgroups can be created.
    public var usable: Bool
    /// Why (or why not).
    public var detail: String

    /// Finds the mounted hierarchies and Airlock's place in them. No side effects.
    static func detect() -> CgroupSupport {
        let mounts = Posix.readSmallFile("/proc/self/mountinfo", limit: 1 << 20) ?? ""
        var v2Mount: String?
        var v1Mounts: [String: String] = [:]
        for line in mounts.split(separator: "\n") {
            let parts = line.split(separator: " - ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let before = parts[0].split(separator: " ")
            let after = parts[1].split(separator: " ")
            guard before.count >= 5, after.count >= 3 else { continue }
            let mountPoint = String(before[4])
            if after[0] == "cgroup2" { v2Mount = mountPoint }
            if after[0] == "cgroup" {
                for option in after[2].split(separator: ",") where option == "memory" || option == "pids" {
                    v1Mounts[String(option)] = mountPoint
                }
            }
        }
        var ownPaths: [String: String] = [:]
        for line in (Posix.readSmallFile("/proc/self/cgroup") ?? "").split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let path = String(fields[2])
            if fields[1].isEmpty { ownPaths["unified"] = path }
            for controller in fields[1].split(separator: ",") { ownPaths[String(controller)] = path }
        }
        let root = geteuid() == 0

        if let v2Mount, let controllers = Posix.readSmallFile(v2Mount + "/cgroup.controllers"),
            controllers.split(separator: " ").map({ String($0).trimmingWhitespace }).contains("memory"),
            controllers.contains("pids")
        {
            guard root else {
                return CgroupSupport(
                    version: "v2", memoryBase: nil, pidsBase: nil, usable: false,
                    detail: "cgroup v2 at \(v2Mount) with memory and pids, but Airlock is not root and has no "
                        + "delegated cgroup; memory limits need --allow-degraded cgroups (processes are still "
                        + "bounded by RLIMIT_NPROC in the sandbox's own user namespace)")
            }
            let base = v2Mount + "/airlock"
            return CgroupSupport(
                version: "v2", memoryBase: base, pidsBase: base, usable: true,
                detail: "cgroup v2 at \(v2Mount); per-run cgroups under \(base) (memory, pids)")
        }
        if let memoryMount = v1Mounts["memory"], let pidsMount = v1Mounts["pids"] {
            let memoryBase = memoryMount + normalise(ownPaths["memory"]) + "/airlock"
            let pidsBase = pidsMount + normalise(ownPaths["pids"]) + "/airlock"
            let parentOK =
                access(parentDirectory(memoryBase), W_OK) == 0 && access(parentDirectory(pidsBase), W_OK) == 0
            return CgroupSupport(
                version: "v1", memoryBase: memoryBase, pidsBase: pidsBase, usable: parentOK,
                detail: parentOK
                    ? "cgroup v1: memory under \(memoryBase), pids under \(pidsBase)"
                    : "cgroup v1 hierarchies found but \(parentDirectory(memoryBase)) is not writable by this user")
        }
        return CgroupSupport(
            version: "none", memoryBase: nil, pidsBase: nil, usable: false,
            detail: "no cgroup hierarchy with the memory and pids controllers is mounted")
    }

    private static func normalise(_ path: String?) -> String {
        guard let path, path != "/" else { return "" }
        return path
    }

    private static func parentDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}

/// The cgroup(s) of one run: created before the clone, the child joined before it runs, read
/// and removed after it is gone.
final class RunCgroup {
    let version: String
    private(set) var directories: [String] = []
    private(set) var procsDescriptors: [Int32] = []
    private var memoryDirectory: String?

    private static let counter = Atomic<Int>(0)
    private static let basesReady = Mutex<Set<String>>([])

    /// Creates the run's cgroup(s) and applies the limits.
    init(support: CgroupSupport, limits: SandboxLimits) throws(SandboxError) {
        version = support.version
        memoryDirectory = nil
        guard support.usable, let memoryBase = support.memoryBase, let pidsBase = support.pidsBase else {
            throw SandboxError(.layerUnavailable, "cgroups: \(support.detail)")
        }
        let name = "run-\(getpid())-\(Self.counter.add(1, ordering: .relaxed).newValue)"
        do {
            if version == "v2" {
                try Self.prepareV2Base(memoryBase)
                let dir = memoryBase + "/" + name
                try Posix.mkdir(dir)
                directories = [dir]
                memoryDirectory = dir
                if let memory = limits.memoryBytes {
                    try Posix.writeFile(dir + "/memory.max", String(memory))
                    try? Posix.writeFile(dir + "/memory.swap.max", "0")
                }
                try Posix.writeFile(dir + "/pids.max", String(limits.maxProcesses))
            } else {
                try Self.prepareV1Base(memoryBase)
                try Self.prepareV1Base(pidsBase)
                let memoryDir = memoryBase + "/" + name
                let pidsDir = pidsBase + "/" + name
                try Posix.mkdir(memoryDir)
                directories.append(memoryDir)
                try Posix.mkdir(pidsDir)
                directories.append(pidsDir)
                memoryDirectory = memoryDir
                if let memory = limits.memoryBytes {
                    try Posix.writeFile(memoryDir + "/memory.limit_in_bytes", String(memory))
                    // Swap accounting may be off; without it there is nothing more to bound.
                    try? Posix.writeFile(memoryDir + "/memory.memsw.limit_in_bytes", String(memory))
                }
                try Posix.writeFile(pidsDir + "/pids.max", String(limits.maxProcesses))
            }
            for dir in directories { procsDescriptors.append(try Posix.open(dir + "/cgroup.procs", O_WRONLY)) }
        } catch {
            destroy()
            throw SandboxError(.setupFailed, "cgroups: \(error.message)", errno: error.errno)
        }
    }

    /// Peak memory of the run in bytes, if the kernel reports it.
    var peakMemoryBytes: UInt64? {
        guard let dir = memoryDirectory else { return nil }
        let file = version == "v2" ? "/memory.peak" : "/memory.max_usage_in_bytes"
        return Posix.readSmallFile(dir + file).flatMap { UInt64($0.trimmingWhitespace) }
    }

    /// How many processes the OOM killer ended in this cgroup.
    var oomKills: Int {
        guard let dir = memoryDirectory else { return 0 }
        let file = version == "v2" ? "/memory.events" : "/memory.oom_control"
        for line in (Posix.readSmallFile(dir + file) ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == "oom_kill" { return Int(fields[1]) ?? 0 }
        }
        return 0
    }

    /// Closes the descriptors and removes the cgroup(s); anything still inside is killed first.
    func destroy() {
        for fd in procsDescriptors { Posix.close(fd) }
        procsDescriptors = []
        for dir in directories.reversed() {
            var attempts = 0
            while Posix.rmdir(dir) == EBUSY && attempts < 50 {
                attempts += 1
                if version == "v2" {
                    try? Posix.writeFile(dir + "/cgroup.kill", "1")
                } else {
                    for pid in (Posix.readSmallFile(dir + "/cgroup.procs") ?? "").split(separator: "\n") {
                        if let p = Int32(pid) { kill(p, SIGKILL) }
                    }
                }
                usleep(1000)
            }
        }
        directories = []
    }

    private static func prepareV1Base(_ base: String) throws(SandboxError) {
        if basesReady.withLock({ $0.contains(base) }) { return }
        try Posix.mkdir(base)
        basesReady.withLock { _ = $0.insert(base) }
    }

    private static func prepareV2Base(_ base: String) throws(SandboxError) {
        if basesReady.withLock({ $0.contains(base) }) { return }
        let root = String(base[..<(base.lastIndex(of: "/") ?? base.endIndex)])
        // Controllers must be enabled on every level above a cgroup that uses them.
        try? Posix.writeFile(root + "/cgroup.subtree_control", "+memory +pids")
        try Posix.mkdir(base)
        try Posix.writeFile(base + "/cgroup.subtree_control", "+memory +pids")
        basesReady.withLock { _ = $0.insert(base) }
    }
}
