import AirlockCore
import CSandbox
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs programs in confined child processes.
///
/// Each run gets new user, mount, PID, network, IPC, UTS and cgroup namespaces; a fresh read-only
/// root holding only the system directories, a minimal `/etc`, a new `/proc`, a small `/dev`, a
/// private `/tmp` and the caller's mounts; an unprivileged uid with every capability dropped and
/// `no_new_privs`; Landlock rules for the same paths; a default-deny seccomp filter whose refusals
/// are recorded; rlimits and, where the host allows, a cgroup. When the run ends, its PID
/// namespace takes every process with it and its cgroup is removed.
public struct Sandbox: Sendable {
    /// How the sandbox maps identities and where it stages its root.
    public struct Configuration: Sendable, Hashable {
        /// The uid and gid the program runs as, inside the sandbox. Default 1000.
        public var innerUID: UInt32
        public var innerGID: UInt32
        /// The host uid and gid the sandbox user maps to when Airlock runs as root (never 0).
        /// Default 65534 (`nobody`). Unprivileged, the sandbox user is always the caller's own uid.
        public var hostUIDWhenRoot: UInt32
        public var hostGIDWhenRoot: UInt32
        /// After the sandbox is gone, how long to keep reading pipes a stray holder keeps open. 1 s.
        public var drainGraceSeconds: Double
        /// Whether children are cloned from a template root where this process can build one
        /// (root; see `docs/sandbox.md`). Off, every child builds its whole root itself: the same
        /// sandbox, started more slowly. Default on; `AIRLOCK_SANDBOX_TEMPLATES=off` turns it off
        /// for a whole process.
        public var templates: Bool

        /// Creates a configuration with the documented defaults.
        public init(
            innerUID: UInt32 = 1000, innerGID: UInt32 = 1000, hostUIDWhenRoot: UInt32 = 65534,
            hostGIDWhenRoot: UInt32 = 65534, drainGraceSeconds: Double = 1, templates: Bool = true
        ) {
            self.innerUID = innerUID
            self.innerGID = innerGID
            self.hostUIDWhenRoot = hostUIDWhenRoot
            self.hostGIDWhenRoot = hostGIDWhenRoot
            self.drainGraceSeconds = drainGraceSeconds
            self.templates = templates
        }
    }

    /// The configuration in force.
    public var configuration: Configuration
    /// The process-wide pools and queues runs use (``SandboxRuntime/shared``; a test may pass its own).
    let runtime: SandboxRuntime

    /// Creates a sandbox runner.
    public init(configuration: Configuration = Configuration()) {
        self.init(configuration: configuration, runtime: .shared)
    }

    /// Creates a sandbox runner on `runtime`'s pools.
    init(configuration: Configuration, runtime: SandboxRuntime) {
        self.configuration = configuration
        self.runtime = runtime
    }

    /// The host uid and gid sandboxed programs run as (what a read-write mount must let write).
    public var hostIdentity: (uid: UInt32, gid: UInt32) {
        geteuid() == 0
            ? (configuration.hostUIDWhenRoot, configuration.hostGIDWhenRoot) : (geteuid(), getegid())
    }

    /// Runs `spec` to completion and returns what happened.
    ///
    /// A non-zero exit, a signal, a timeout or an OOM kill are outcomes in the record. Cancelling
    /// the calling task kills the sandbox.
    /// - Throws: ``SandboxError`` when the sandbox could not be set up or supervised.
    public func run(_ spec: SandboxSpec) async throws(SandboxError) -> ExecutionRecord {
        let cancel = try Posix.pipe()
        defer {
            Posix.close(cancel.read)
            Posix.close(cancel.write)
        }
        let configuration = self.configuration
        let runtime = self.runtime
        let cancelFD = cancel.read
        let result: Result<ExecutionRecord, SandboxError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // Started and supervised on a spawner thread, which outlives the child (the child's
                // parent-death signal is tied to the thread that cloned it).
                runtime.spawners.submit {
                    continuation.resume(
                        returning: Result { () throws(SandboxError) -> ExecutionRecord in
                            try SandboxRun(
                                spec: spec, configuration: configuration, runtime: runtime, cancelFD: cancelFD
                            )
                            .execute()
                        })
                }
            }
        } onCancel: {
            _ = write(cancel.write, "x", 1)
        }
        return try result.get()
    }

    /// Kills the children kept waiting for future runs and stops keeping them (leak checks, shutdown).
    public static func discardPrespawnedChildren() {
        SandboxRuntime.shared.warmPool.drain()
        SandboxRuntime.shared.releaser.settle()
    }

    /// Runs `spec` on the calling thread, blocking until the sandbox is gone. For callers that
    /// manage their own threads (benchmarks, a dedicated agent thread); prefer ``run(_:)``. The
    /// thread must not exit while the call runs (it cannot: the call blocks).
    public func runBlocking(_ spec: SandboxSpec) throws(SandboxError) -> ExecutionRecord {
        try SandboxRun(spec: spec, configuration: configuration, runtime: runtime, cancelFD: -1).execute()
    }
}

/// One run, from plan to record. Lives on the supervising thread.
struct SandboxRun {
    let spec: SandboxSpec
    let configuration: Sandbox.Configuration
    /// The pools and queues the run uses (``SandboxRuntime/shared`` unless a test made its own).
    let runtime: SandboxRuntime
    let cancelFD: Int32
    /// For a long-lived process (``Sandbox/start(_:)``): stdin and stdout are pipes handed to it
    /// once the child runs, and refusals are reported as they happen. `nil`: run to completion.
    var session: SessionChannel? = nil

    /// The confinement layers this host can apply, checked against what the spec allows to be
    /// missing: a layer that is unavailable and not allowed degraded refuses the run.
    struct Layers {
        var degraded: [ConfinementLayer] = []
        var notify = false
        var landlockABI = 0
    }

    /// Plan step: which layers apply (``Layers``), refusing what may not be degraded.
    func layers() throws(SandboxError) -> Layers {
        let probe = RunSupport.current
        var layers = Layers()
        _ = try require(.seccomp, probe.seccompFilter, probe.seccompFilterDetail, &layers.degraded)
        layers.notify = try require(
            .seccompNotify, probe.seccompUserNotif, "SECCOMP_RET_USER_NOTIF is not available", &layers.degraded)
        layers.landlockABI =
            try require(.landlock, probe.landlockABI > 0, "Landlock is not available on this kernel", &layers.degraded)
            ? probe.landlockABI : 0
        if layers.degraded.contains(.seccomp) {
            // Running without any syscall filter is not a degraded mode Airlock offers.
            throw SandboxError(.layerUnavailable, "seccomp: the kernel has no seccomp filter support")
        }
        return layers
    }

    /// Whether `layer` applies; if not, refuses unless the spec allows it degraded (then records it).
    func require(
        _ layer: ConfinementLayer, _ available: Bool, _ why: String, _ degraded: inout [ConfinementLayer]
    ) throws(SandboxError) -> Bool {
        if available { return true }
        guard spec.allowDegraded.contains(layer) else {
            throw SandboxError(
                .layerUnavailable,
                "\(layer.rawValue): \(why) (pass --allow-degraded \(layer.rawValue) to run without it; the record will say so)"
            )
        }
        degraded.append(layer)
        return false
    }

    /// Plan step: the uid and gid inside the sandbox, the host's they map to, and whether this
    /// process is root. The sandbox user never maps to host root.
    func identities() throws(SandboxError) -> (
        inner: (uid: UInt32, gid: UInt32), host: (uid: UInt32, gid: UInt32), isRoot: Bool
    ) {
        let inner = (uid: configuration.innerUID, gid: configuration.innerGID)
        let isRoot = geteuid() == 0
        let host =
            isRoot
            ? (uid: configuration.hostUIDWhenRoot, gid: configuration.hostGIDWhenRoot)
            : (uid: geteuid(), gid: getegid())
        guard host.uid != 0 else {
            throw SandboxError(.invalidSpec, "sandbox identity: the sandbox user may not map to host root")
        }
        return (inner, host, isRoot)
    }

    /// Pipes step: the program's stdin (a pipe for bytes or a session, `/dev/null`, or a file) and
    /// the pipe's write end, or -1. The caller owns both.
    func openStandardInput() throws(SandboxError) -> (read: Int32, writer: Int32) {
        switch spec.stdin {
        case _ where session != nil, .bytes:
            let p = try Posix.pipe()
            return (p.read, p.write)
        case .null: return (try Posix.open("/dev/null", O_RDONLY), -1)
        case .file(let path):
            do {
                return (try Posix.open(path, O_RDONLY), -1)
            } catch {
                throw SandboxError(.invalidSpec, "stdin \(path): \(error.message)", errno: error.errno)
            }
        }
    }

    /// C plan step: the run as `al_start` takes it — mounts, rlimits, Landlock rules, the filter,
    /// the corridors' listeners, the program's candidates, argv and envp — every string and array
    /// in `arena`, which must outlive the start.
    func cRunPlan(
        _ plan: MountPlan, filter: SeccompProfile.Compiled, corridors: [UInt32], notify: Bool, cgroup: RunCgroup?,
        in arena: CStringArena
    ) -> (run: al_run_plan, argv: [String], candidates: [String]) {
        let argv = [spec.program] + spec.arguments
        let envp = spec.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let candidates = Self.executableCandidates(
            spec.program, path: spec.environment["PATH"] ?? SandboxSpec.defaultPath)
        let ops = plan.cOperations(in: arena)
        let rules = plan.cLandlockRules(in: arena)
        let files = UInt64(spec.limits.openFiles)
        let processes = UInt64(spec.limits.maxProcesses)
        var rlimits: [al_rlimit] = [
            al_rlimit(resource: al_rlimit_fsize, soft: spec.limits.fileSizeBytes, hard: spec.limits.fileSizeBytes),
            al_rlimit(resource: al_rlimit_nofile, soft: files, hard: files),
            al_rlimit(resource: al_rlimit_nproc, soft: processes, hard: processes),
            al_rlimit(resource: al_rlimit_core, soft: 0, hard: 0),
        ]
        if let cpu = spec.limits.cpuSeconds {
            // SIGXCPU at the soft limit, SIGKILL one second later.
            rlimits.append(al_rlimit(resource: al_rlimit_cpu, soft: UInt64(cpu), hard: UInt64(cpu + 1)))
        }
        if spec.limits.memoryBytes != nil && cgroup == nil, let memory = spec.limits.memoryBytes {
            // Degraded: no cgroup, so bound each process's address space instead.
            rlimits.append(al_rlimit(resource: al_rlimit_as, soft: memory, hard: memory))
        }
        let candidatePointers: [UnsafePointer<CChar>?] = candidates.map { UnsafePointer(arena.string($0)) }
        let filterBytes = arena.array(filter.bytes)

        var run = al_run_plan()
        run.ops = UnsafePointer(arena.array(ops))
        run.op_count = ops.count
        let bindSources: [UnsafePointer<CChar>?] = plan.bindSources.map { UnsafePointer(arena.string($0)) }
        run.bind_sources = UnsafePointer(arena.array(bindSources))
        run.bind_source_count = bindSources.count
        run.hostname = UnsafePointer(arena.string(spec.hostname))
        run.workdir = UnsafePointer(arena.string(spec.workingDirectory))
        run.rlimits = UnsafePointer(arena.array(rlimits))
        run.rlimit_count = rlimits.count
        run.landlock_rules = UnsafePointer(arena.array(rules))
        run.landlock_rule_count = rules.count
        run.seccomp = al_bpf_program(length: UInt16(filter.instructionCount), filter: UnsafeRawPointer(filterBytes))
        let ports = spec.corridors.map(\.port)
        run.loopback_ports = UnsafePointer(arena.array(ports.isEmpty ? [0] : ports))
        run.loopback_addresses = UnsafePointer(arena.array(corridors.isEmpty ? [0] : corridors))
        run.loopback_port_count = ports.count
        run.seccomp_listener = notify ? 1 : 0
        // Given /dev/tty, the program keeps the caller's terminal; otherwise it has none.
        run.keep_terminal = spec.allowTTY ? 1 : 0
        run.exec_paths = UnsafePointer(arena.array(candidatePointers))
        run.exec_path_count = candidates.count
        run.argv = UnsafePointer(arena.stringArray(argv))
        run.envp = UnsafePointer(arena.stringArray(envp))
        return (run, argv, candidates)
    }

    /// Evidence step: the refused syscalls the supervisor counted, named.
    static func deniedSyscalls(_ outcome: al_supervise_result) -> [DeniedSyscall] {
        var denied: [DeniedSyscall] = []
        withUnsafeBytes(of: outcome.denied) { raw in
            let entries = raw.bindMemory(to: al_denied_syscall.self)
            for i in 0..<min(outcome.denied_count, entries.count) {
                let entry = entries[i]
                let name = SeccompProfile.name(of: entry.number)
                denied.append(
                    DeniedSyscall(
                        name: name, number: entry.number, count: Int(entry.count),
                        detail: Self.detail(name: name, args: entry.args)))
            }
        }
        return denied
    }

    /// Evidence step: a corridor run's refused connects, as the record lists them.
    static func refusedConnects(_ outcome: al_supervise_result) -> [String] {
        var refused: [String] = []
        withUnsafeBytes(of: outcome.refused_connects) { raw in
            let entries = raw.bindMemory(to: al_refused_connect.self)
            for i in 0..<min(outcome.refused_connect_count, entries.count) {
                refused.append(Self.describe(entries[i]))
            }
        }
        if outcome.refused_connect_overflow > 0 {
            refused.append("… \(outcome.refused_connect_overflow) more")
        }
        return refused
    }

    /// One run, in its steps: plan (layers, identities, the base and run plans, the filter),
    /// pipes, cgroup, the C run plan, spawn, supervise, evidence, record; cleanup by `defer`.
    func execute() throws(SandboxError) -> ExecutionRecord {
        let layers = try layers()
        let (notify, landlockABI, degraded) = (layers.notify, layers.landlockABI, layers.degraded)
        let corridors = try Self.insideAddresses(spec.corridors)
        let filter = try SeccompProfile.compiled(
            groups: spec.syscallGroups, notify: notify, tcpClient: !corridors.isEmpty)
        let (inner, host, isRoot) = try identities()
        let (base, plan) = try Self.plans(
            for: spec, inner: inner, host: host, dropGroups: isRoot, landlockABI: landlockABI,
            templates: configuration.templates)
        let workdir = spec.workingDirectory
        guard workdir.hasPrefix("/") else {
            throw SandboxError(
                .invalidSpec, "working directory \(workdir): must be an absolute path inside the sandbox")
        }

        // A cgroup holds memory; processes are bounded without one by RLIMIT_NPROC in the sandbox's
        // own user namespace, so runs without a memory limit skip the cgroup and its migration cost.
        var useCgroup = false
        var degradedLayers = degraded
        if spec.limits.memoryBytes != nil {
            useCgroup = try require(.cgroups, RunSupport.cgroup.usable, RunSupport.cgroup.detail, &degradedLayers)
        }
        let cgroup = useCgroup ? try RunCgroup(support: RunSupport.cgroup, limits: spec.limits) : nil
        defer { cgroup?.destroy() }

        // Standard streams.
        let (stdinFD, stdinWriter) = try openStandardInput()
        defer { Posix.close(stdinFD) }
        // Fed below, or a session's once the child runs; closed here on every other way out.
        var stdinOwned = stdinWriter
        defer { Posix.close(stdinOwned) }
        let out = try Posix.pipe()
        let err: (read: Int32, write: Int32)
        do { err = try Posix.pipe() } catch {
            Posix.close(out.read)
            Posix.close(out.write)
            throw error
        }
        // A session's stdout belongs to the process's reader once the child runs.
        var outReader = out.read
        defer {
            Posix.close(outReader)
            Posix.close(err.read)
        }
        var childWriteEnds = [out.write, err.write]
        defer { for fd in childWriteEnds { Posix.close(fd) } }

        // Everything the child reads, in memory that stays put until al_start returns.
        let arena = CStringArena()
        var (run, argv, candidates) = cRunPlan(
            plan, filter: filter, corridors: corridors, notify: notify, cgroup: cgroup, in: arena)
        let ports = spec.corridors.map(\.port)

        // A child prespawned from the same base if one is waiting, else one made here and now. A
        // corridor run needs a network namespace its child holds capabilities over (to bring its
        // loopback up and listen), so it never takes a waiting child nor a lent namespace.
        let child: PrespawnedChild
        if corridors.isEmpty, let waiting = runtime.warmPool.take(for: base) {
            child = waiting
        } else {
            child = try base.prespawn(networks: runtime.networks, lendNetwork: corridors.isEmpty)
        }
        defer { child.releaseNetwork() }
        let stdio: [Int32] = [stdinFD, out.write, err.write]
        let cgroupFDs = cgroup?.procsDescriptors ?? []
        let started = DispatchTime.now().uptimeNanoseconds
        var spawned = al_spawn_result()
        var failure = al_child_failure()
        let rc = al_start(child.take(), &run, stdio, cgroupFDs, cgroupFDs.count, &spawned, &failure)
        for fd in childWriteEnds { Posix.close(fd) }
        childWriteEnds = []
        guard rc == 0 else {
            throw describe(failure, base: base, run: plan, candidates: candidates)
        }
        // Tearing down a mount namespace waits for an RCU grace period. Holding a reference to the
        // sandbox's keeps that wait out of its last process's exit (which the caller is waiting on);
        // the namespace is released afterwards, off the run's path.
        let mountNamespace = try? Posix.open("/proc/\(spawned.pid)/ns/mnt", O_RDONLY)
        defer {
            Posix.close(spawned.pidfd)
            Posix.close(spawned.notify_fd)
            if let mountNamespace { runtime.releaser.release(mountNamespace) }
            if spawned.host_tree_fd >= 0 { runtime.releaser.release(spawned.host_tree_fd) }
        }
        let listenerFDs = withUnsafeBytes(of: spawned.listener_fds) { raw in
            Array(raw.bindMemory(to: Int32.self).prefix(Int(spawned.listener_count)))
        }
        // The corridors' outside half: accepts on the listeners (which stay in the sandbox's
        // network namespace) until the run is over, then closes them.
        let forwarder =
            corridors.isEmpty
            ? nil : CorridorForwarder(corridors: spec.corridors, limits: spec.corridorLimits, listeners: listenerFDs)
        // Idempotent: the record below asks first; this covers a supervision failure.
        defer { _ = forwarder?.finish() }
        if notify && spawned.notify_fd < 0 {
            // The child reached execve without handing over its listener: kill it rather than run unrecorded.
            _ = kill(spawned.pid, SIGKILL)
        }
        // Built once the child runs: before supervision for a session (its owner gets it at the
        // start), after it for a run (off the path between the start and supervision).
        func evidence() -> ConfinementEvidence {
            let limits = AppliedLimits(
                wallTimeSeconds: spec.limits.wallTimeSeconds, cpuSeconds: spec.limits.cpuSeconds,
                memoryBytes: spec.limits.memoryBytes, maxProcesses: spec.limits.maxProcesses,
                fileSizeBytes: spec.limits.fileSizeBytes, openFiles: spec.limits.openFiles,
                outputBytesPerStream: spec.limits.outputBytesPerStream, tmpSizeBytes: spec.limits.tmpSizeBytes,
                enforcement: cgroup.map { "cgroup \($0.version) (memory, pids) + rlimits" }
                    ?? "rlimits (RLIMIT_NPROC in the sandbox's user namespace\(spec.limits.memoryBytes != nil ? ", RLIMIT_AS" : ""))"
            )
            return ConfinementEvidence(
                namespaces: ["user", "mnt", "pid", "net", "ipc", "uts", "cgroup"],
                networkNamespace: Self.describe(child.network, corridors: spec.corridors),
                uidMap: base.uidMap.trimmingWhitespace, gidMap: base.gidMap.trimmingWhitespace, uid: inner.uid,
                gid: inner.gid,
                mounts: base.records + plan.records, seccompBPFSHA256: filter.sha256,
                seccompDenyAction: filter.denyAction,
                seccompInstructions: filter.instructionCount, landlockABI: landlockABI,
                capabilities: "none (bounding, ambient, inheritable, permitted, effective all empty)",
                noNewPrivs: true, limits: limits, cgroupVersion: cgroup?.version ?? "none",
                degradedLayers: degradedLayers.sorted())
        }
        if let session {
            // The process's owner writes its stdin and reads its stdout from here on.
            session.started(input: stdinWriter, output: out.read, argv: argv, confinement: evidence())
            stdinOwned = -1
            outReader = -1
        } else if case .bytes(let bytes) = spec.stdin {
            Self.feed(bytes, to: stdinWriter)
            stdinOwned = -1
        }

        // Supervise.
        let keepOut = max(spec.limits.outputBytesPerStream, 0)
        let outBuffer = runtime.captureBuffers.take(capacity: max(keepOut, 1))
        let errBuffer = runtime.captureBuffers.take(capacity: max(keepOut, 1))
        defer {
            runtime.captureBuffers.give(outBuffer, capacity: max(keepOut, 1))
            runtime.captureBuffers.give(errBuffer, capacity: max(keepOut, 1))
        }
        var config = al_supervise_config(
            pid: spawned.pid, pidfd: spawned.pidfd, stdout_fd: session == nil ? out.read : -1, stderr_fd: err.read,
            notify_fd: spawned.notify_fd, cancel_fd: cancelFD,
            timeout_ns: Int64(spec.limits.wallTimeSeconds * 1e9),
            drain_grace_ns: Int64(configuration.drainGraceSeconds * 1e9),
            inspect_connect: corridors.isEmpty ? 0 : 1, connect_ports: run.loopback_ports,
            connect_addresses: run.loopback_addresses, connect_port_count: ports.count,
            stdout_buf: outBuffer, stdout_cap: keepOut, stderr_buf: errBuffer, stderr_cap: keepOut,
            on_denied: session == nil ? nil : SessionChannel.deniedCallback,
            on_denied_context: session.map { Unmanaged.passUnretained($0).toOpaque() })
        var outcome = al_supervise_result()
        let supervised = withExtendedLifetime(session) { al_supervise(&config, &outcome) }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        guard supervised == 0 else {
            throw SandboxError(.supervisionFailed, "supervise: \(Posix.describe(-supervised))", errno: -supervised)
        }

        let termination: Termination = outcome.kind == 1 ? .exited(outcome.code) : .signaled(outcome.code)
        let denied = Self.deniedSyscalls(outcome)
        let network = forwarder.map {
            NetworkActivity(
                corridors: spec.corridors, limits: spec.corridorLimits, connections: $0.finish(),
                refusedConnects: Self.refusedConnects(outcome))
        }
        let usage = outcome.usage
        let oomKills = cgroup?.oomKills ?? 0
        return ExecutionRecord(
            argv: argv, termination: termination, timedOut: outcome.timed_out != 0,
            cancelled: outcome.cancelled != 0 ? true : nil,
            oomKilled: oomKills > 0, wallSeconds: wall,
            userCPUSeconds: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
            systemCPUSeconds: Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6,
            peakMemoryBytes: cgroup?.peakMemoryBytes ?? UInt64(usage.ru_maxrss) * 1024,
            stdout: CapturedOutput(
                bytes: Array(UnsafeBufferPointer(start: outBuffer, count: outcome.stdout_kept)),
                totalBytes: outcome.stdout_total),
            stderr: CapturedOutput(
                bytes: Array(UnsafeBufferPointer(start: errBuffer, count: outcome.stderr_kept)),
                totalBytes: outcome.stderr_total),
            deniedSyscalls: denied, confinement: evidence(), network: network)
    }

    /// The base and run plans for `spec`: cloned from a template where this process can build
    /// one, else each child building its whole root (see ``SandboxTemplate``).
    static func plans(
        for spec: SandboxSpec, inner: (uid: UInt32, gid: UInt32), host: (uid: UInt32, gid: UInt32),
        dropGroups: Bool, landlockABI: Int, templates: Bool
    ) throws(SandboxError) -> (BasePlan, MountPlan) {
        let whole = BasePlan.current(inner: inner, host: host, dropGroups: dropGroups, landlockABI: landlockABI)
        if templates && SandboxTemplate.unavailable == nil {
            var plan = try MountPlan(
                runFor: spec, host: host, landlockABI: landlockABI, base: whole.mounts, binds: .parentTrees)
            if let skeleton = plan.takeTemplateSteps(), let templated = whole.templated(skeleton: skeleton) {
                return (templated, plan)
            }
        }
        let plan = try MountPlan(
            runFor: spec, host: host, landlockABI: landlockABI, base: whole.mounts, binds: whole.binds)
        return (whole, plan)
    }

    /// The corridors' inside addresses (host order), checked: each in 127.0.0.0/8 but not
    /// 127.0.0.1, no address and port twice, at most ``Corridor/maximumPerRun``.
    static func insideAddresses(_ corridors: [Corridor]) throws(SandboxError) -> [UInt32] {
        guard corridors.count <= Corridor.maximumPerRun else {
            throw SandboxError(
                .invalidSpec, "corridors: \(corridors.count), more than the \(Corridor.maximumPerRun) a run may have")
        }
        var seen: Set<String> = []
        var addresses: [UInt32] = []
        for corridor in corridors {
            let inside = "\(corridor.insideAddress):\(corridor.port)"
            guard let address = corridor.insideLoopback, address != 0x7F00_0001, corridor.port > 0 else {
                throw SandboxError(
                    .invalidSpec,
                    "corridor \(corridor.host):\(corridor.port): inside address \(inside) must be in 127.0.0.0/8 (not 127.0.0.1) with a port above 0"
                )
            }
            guard Posix.socketAddress(corridor.address, port: corridor.port) != nil else {
                throw SandboxError(
                    .invalidSpec,
                    "corridor \(corridor.host):\(corridor.port): address \(corridor.address) must be a numeric IPv4 or IPv6 address"
                )
            }
            guard seen.insert(inside).inserted else {
                throw SandboxError(
                    .invalidSpec, "corridor \(corridor.host):\(corridor.port): \(inside) is listed twice")
            }
            addresses.append(address)
        }
        return addresses
    }

    /// One refused connect, as the record lists it.
    static func describe(_ refused: al_refused_connect) -> String {
        let bytes = withUnsafeBytes(of: refused.address) { Array($0) }
        switch Int32(refused.family) {
        case AF_INET: return bytes.prefix(4).map(String.init).joined(separator: ".") + ":\(refused.port)"
        case AF_INET6:
            let groups = stride(from: 0, to: 16, by: 2).map {
                String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
            }
            return "[\(groups.joined(separator: ":"))]:\(refused.port)"
        case 0: return "address unreadable"
        default: return "family \(refused.family)"
        }
    }

    /// How the network namespace was provided, for the evidence.
    static func describe(_ network: NetworkNamespacePool.Lease?, corridors: [Corridor] = []) -> String {
        if !corridors.isEmpty {
            let list = corridors.map { "\($0.insideAddress):\($0.port)" }.joined(separator: ", ")
            return "new (CLONE_NEWNET): loopback only, up, with corridor listeners on \(list) held by Airlock"
        }
        // (The lease is the prespawned child's; see NetworkNamespacePool for why it is safe.)
        guard let network else { return "new (CLONE_NEWNET): loopback only, down" }
        return
            "lent to this run alone from Airlock's pool, reused sequentially (net:[\(network.inode)]): loopback only, down"
    }

    /// Absolute candidates for `program`: itself when it has a slash, else each `PATH` entry.
    static func executableCandidates(_ program: String, path: String) -> [String] {
        if program.contains("/") { return [program] }
        return path.split(separator: ":").filter { $0.hasPrefix("/") }.map { "\($0)/\(program)" }
    }

    /// Writes stdin bytes on a helper thread so a program that never reads cannot block us.
    static func feed(_ bytes: [UInt8], to fd: Int32) {
        let thread = Thread {
            // A program that exits without reading would raise SIGPIPE here: block it on this thread
            // only (it is thread-directed), so write returns EPIPE and the process is untouched.
            var pipeSignal = sigset_t()
            sigemptyset(&pipeSignal)
            sigaddset(&pipeSignal, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
            bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                var offset = 0
                while offset < buffer.count {
                    let n = Posix.retrying { write(fd, base + offset, buffer.count - offset) }
                    if n <= 0 { break }
                    offset += n
                }
            }
            Posix.close(fd)
        }
        thread.start()
    }

    /// A note on the first refused call's arguments where they say something.
    static func detail(name: String, args: (UInt64, UInt64)) -> String? {
        switch name {
        case "socket", "socketpair":
            let families: [UInt64: String] = [
                2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK", 17: "AF_PACKET", 40: "AF_VSOCK",
            ]
            let types: [UInt64: String] = [1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 5: "SOCK_SEQPACKET"]
            let family = families[args.0 & 0xFFFF_FFFF] ?? String(args.0 & 0xFFFF_FFFF)
            // Shown where it tells something: a corridor tool may make AF_INET stream sockets only.
            guard family == "AF_INET" || family == "AF_INET6", let type = types[args.1 & 0xF] else {
                return "family=\(family)"
            }
            return "family=\(family) type=\(type)"
        case "clone", "unshare":
            return "flags=0x\(String(args.0, radix: 16))"
        case "ioctl":
            return "request=0x\(String(args.1 & 0xFFFF_FFFF, radix: 16))"
        default:
            return nil
        }
    }

    /// Turns a child or parent failure into an error naming the stage, the path and the errno.
    func describe(_ failure: al_child_failure, base: BasePlan, run plan: MountPlan, candidates: [String])
        -> SandboxError
    {
        let stage = al_stage(rawValue: UInt32(failure.stage))
        var errnoText = Posix.describe(failure.err)
        if stage == AL_STAGE_NONE { return SandboxError.parentStep(failure) }
        if stage == AL_STAGE_EXEC {
            let path = candidates.indices.contains(Int(failure.index)) ? candidates[Int(failure.index)] : spec.program
            let what = spec.program.contains("/") ? path : "\(spec.program) (searched PATH inside the sandbox)"
            return SandboxError(.execFailed, "execve(\(what)): \(errnoText)", errno: failure.err)
        }
        var name = String(cString: al_stage_name(failure.stage))
        let steps = stage == AL_STAGE_RUN_OPS ? plan.steps : base.childSteps
        if stage == AL_STAGE_OP || stage == AL_STAGE_OP_SETATTR || stage == AL_STAGE_RUN_OPS,
            steps.indices.contains(Int(failure.index))
        {
            let step = steps[Int(failure.index)]
            name = step.failureName(stage: name)
            if step.kind == AL_OP_BIND || step.kind == AL_OP_BIND_TREE {
                errnoText = MountPlan.describeResolution(failure.err)
            }
        } else if stage == AL_STAGE_BIND_SOURCE, plan.bindSources.indices.contains(Int(failure.index)) {
            name = "openat2+open_tree(\(plan.bindSources[Int(failure.index)]), RESOLVE_NO_SYMLINKS)"
            errnoText = MountPlan.describeResolution(failure.err)
        } else if stage == AL_STAGE_CHDIR_WORKDIR {
            name = "chdir(\(spec.workingDirectory))"
        } else if stage == AL_STAGE_LANDLOCK_OPEN || stage == AL_STAGE_LANDLOCK_RULE {
            let rules = base.mounts.landlockRules + plan.landlockRules
            if rules.indices.contains(Int(failure.index)) { name += "(\(rules[Int(failure.index)].path))" }
        }
        return SandboxError(.setupFailed, "\(name): \(errnoText)", errno: failure.err)
    }
}

/// Closes namespace descriptors on a background queue, so that the grace period a namespace's
/// teardown waits for is not spent on a run's path.
final class NamespaceReleaser: Sendable {
    private let queue = DispatchQueue(label: "airlock.namespace-release", qos: .utility)

    func release(_ fd: Int32) {
        queue.async { Posix.close(fd) }
    }

    /// Waits until every release asked for so far is done.
    func settle() {
        queue.sync {}
    }
}

/// Output capture buffers kept for reuse: a fresh megabyte per stream and run would be mapped and
/// unmapped each time, and unmapping in a process whose threads run on other CPUs costs a TLB
/// shootdown on each of them.
final class CaptureBuffers: @unchecked Sendable {
    /// Most buffers kept per capacity.
    static let keptPerCapacity = 8

    private let lock = NSLock()
    private var free: [Int: [UnsafeMutablePointer<UInt8>]] = [:]

    func take(capacity: Int) -> UnsafeMutablePointer<UInt8> {
        lock.withLock { free[capacity]?.popLast() } ?? UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    }

    func give(_ buffer: UnsafeMutablePointer<UInt8>, capacity: Int) {
        let kept = lock.withLock { () -> Bool in
            guard free[capacity, default: []].count < Self.keptPerCapacity else { return false }
            free[capacity, default: []].append(buffer)
            return true
        }
        if !kept { buffer.deallocate() }
    }
}
