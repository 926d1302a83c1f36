import CSandbox
import Foundation
import Synchronization

/// The part of a sandbox that does not depend on its run, as the C side takes it: identity maps,
/// namespaces and the base mount plan, in memory that stays put for as long as any child built
/// from it may still read it (the plan is immutable once made, and kept alive by its children).
final class BasePlan: @unchecked Sendable {
    /// What makes two base plans interchangeable.
    struct Shape: Hashable, Sendable {
        var inner: [UInt32]
        var host: [UInt32]
        var dropGroups: Bool
        var landlockABI: Int
        var detachedHostTree: Bool
        var loaderCacheBytes: [UInt8]
    }

    let shape: Shape
    let mounts: MountPlan
    let uidMap: String
    let gidMap: String
    let pointer: UnsafeMutablePointer<al_base_plan>
    private let arena = CStringArena()
    private let uidMapPointer: UnsafePointer<CChar>
    private let gidMapPointer: UnsafePointer<CChar>

    private static let latest = Mutex<BasePlan?>(nil)

    /// The base plan for this shape, reused while the shape (and the host's loader cache) stay the same.
    static func current(
        inner: (uid: UInt32, gid: UInt32), host: (uid: UInt32, gid: UInt32), dropGroups: Bool, landlockABI: Int
    ) -> BasePlan {
        let shape = Shape(
            inner: [inner.uid, inner.gid], host: [host.uid, host.gid], dropGroups: dropGroups, landlockABI: landlockABI,
            detachedHostTree: SandboxProbe.current.detachedMountClone, loaderCacheBytes: HostLayout.loaderCache() ?? [])
        if let plan = latest.withLock({ $0 }), plan.shape == shape { return plan }
        let plan = BasePlan(shape: shape, inner: inner, host: host, dropGroups: dropGroups, landlockABI: landlockABI)
        latest.withLock { $0 = plan }
        return plan
    }

    private init(
        shape: Shape, inner: (uid: UInt32, gid: UInt32), host: (uid: UInt32, gid: UInt32), dropGroups: Bool,
        landlockABI: Int
    ) {
        self.shape = shape
        mounts = MountPlan(baseFor: inner, landlockABI: landlockABI, detachedHostTree: shape.detachedHostTree)
        uidMap = "\(inner.uid) \(host.uid) 1\n"
        gidMap = "\(inner.gid) \(host.gid) 1\n"
        uidMapPointer = UnsafePointer(arena.string(uidMap))
        gidMapPointer = UnsafePointer(arena.string(gidMap))
        var plan = al_base_plan()
        plan.clone_flags = al_sandbox_namespaces
        plan.inner_uid = inner.uid
        plan.inner_gid = inner.gid
        plan.drop_groups = dropGroups ? 1 : 0
        plan.staging_dir = UnsafePointer(arena.string(MountPlan.stagingDirectory))
        plan.old_root_name = UnsafePointer(arena.string(MountPlan.oldRoot))
        plan.root_tmpfs_options = UnsafePointer(arena.string("mode=0755,size=1m"))
        let ops = mounts.cOperations(in: arena)
        plan.ops = UnsafePointer(arena.array(ops))
        plan.op_count = ops.count
        plan.detached_host_tree = shape.detachedHostTree ? 1 : 0
        plan.cap_last_cap = Int32(SandboxProbe.current.capLastCap)
        let access = LandlockAccess(abi: landlockABI)
        let rules = mounts.cLandlockRules(in: arena)
        plan.landlock_abi = Int32(landlockABI)
        plan.landlock_handled_fs = access.handledFilesystem
        plan.landlock_handled_net = access.handledNetwork
        plan.landlock_scoped = access.scoped
        plan.landlock_rules = UnsafePointer(arena.array(rules))
        plan.landlock_rule_count = rules.count
        pointer = arena.array([plan])
    }

    /// Clones a child that sets up this base and then waits for its run.
    ///
    /// The child's parent-death signal is tied to the calling thread, which must outlive it.
    func prespawn() throws(SandboxError) -> PrespawnedChild {
        let network = NetworkNamespacePool.shared.acquire()
        var steps = al_parent_steps()
        steps.uid_map = uidMapPointer
        steps.gid_map = gidMapPointer
        steps.deny_setgroups = shape.dropGroups ? 0 : 1
        steps.join_netns_fd = network?.fd ?? -1
        steps.restore_netns_fd = NetworkNamespacePool.shared.home ?? -1
        var handle: OpaquePointer? = nil
        var failure = al_child_failure()
        let rc = al_prespawn(pointer, &steps, &handle, &failure)
        guard rc == 0, let handle else {
            if let network { NetworkNamespacePool.shared.release(network) }
            throw SandboxError.parentStep(failure)
        }
        return PrespawnedChild(base: self, handle: handle, network: network)
    }
}

/// A child that has set up its base and waits for a run; owns its lent network namespace.
final class PrespawnedChild: @unchecked Sendable {
    let base: BasePlan
    let network: NetworkNamespacePool.Lease?
    private(set) var handle: OpaquePointer?

    init(base: BasePlan, handle: OpaquePointer, network: NetworkNamespacePool.Lease?) {
        self.base = base
        self.handle = handle
        self.network = network
    }

    /// The child's pid (it is a child of this process until started or discarded).
    var pid: pid_t { handle.map { al_prespawned_pid($0) } ?? -1 }

    /// Hands over the C handle to `al_start`, which consumes it.
    func take() -> OpaquePointer? {
        defer { handle = nil }
        return handle
    }

    /// Kills and reaps the child if it was never started, and returns its network namespace.
    func discard() {
        if let handle { al_discard(handle) }
        handle = nil
        releaseNetwork()
    }

    /// Returns the lent network namespace once the child (and every process of its run) is gone.
    func releaseNetwork() {
        if let network { NetworkNamespacePool.shared.release(network) }
    }
}

/// Children prespawned ahead of their runs, so that a run pays only for its own part of the setup.
///
/// A background thread keeps ``target`` children of the most recently used shape waiting; it is
/// started by the second run and lives as long as the process (the children's parent-death signal
/// is tied to it). A run takes one if the shape matches and otherwise prespawns its own on the
/// spot, so the pool changes how long a start takes, never what a sandbox is.
final class WarmPool: Sendable {
    /// The pool of this process.
    static let shared = WarmPool(target: 2)

    /// How many children are kept waiting.
    let target: Int
    /// Starts a process makes before children are prespawned for it.
    static let requestsBeforeFilling = 2

    private struct State {
        var ready: [PrespawnedChild] = []
        var shape: BasePlan?
        var fillerStarted = false
        var enabled = true
        var requests = 0
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    init(target: Int) {
        self.target = target
    }

    /// A waiting child built from `base`, or `nil` (the caller then prespawns its own).
    func take(for base: BasePlan) -> PrespawnedChild? {
        let (child, stale, startFiller) = state.withLock { state -> (PrespawnedChild?, [PrespawnedChild], Bool) in
            guard state.enabled else { return (nil, [], false) }
            var stale: [PrespawnedChild] = []
            if state.shape !== base {
                stale = state.ready
                state.ready = []
                state.shape = base
            }
            let child = state.ready.isEmpty ? nil : state.ready.removeFirst()
            // A process that starts one sandbox (`airlock sandbox run`) gains nothing from children
            // made ahead; from the second start on, it does.
            state.requests += 1
            let start = !state.fillerStarted && state.requests >= Self.requestsBeforeFilling
            if start { state.fillerStarted = true }
            return (child, stale, start)
        }
        for old in stale { old.discard() }
        if startFiller {
            let thread = Thread { [self] in self.fill() }
            thread.name = "airlock-prespawn"
            thread.stackSize = 1 << 20
            thread.start()
        }
        wake.signal()
        return child
    }

    /// Discards every waiting child and stops refilling (for leak checks and orderly shutdown).
    func drain() {
        let children = state.withLock { state -> [PrespawnedChild] in
            state.enabled = false
            defer { state.ready = [] }
            return state.ready
        }
        for child in children { child.discard() }
    }

    /// The pids of the children waiting now.
    var waitingPids: [pid_t] { state.withLock { $0.ready.map(\.pid) } }

    private func fill() {
        while true {
            let base: BasePlan? = state.withLock { state in
                state.enabled && state.ready.count < target ? state.shape : nil
            }
            guard let base else {
                wake.wait()
                continue
            }
            guard let child = try? base.prespawn() else {
                // Leave it to the runs, which prespawn their own and report why it fails.
                wake.wait()
                continue
            }
            let keep = state.withLock { state -> Bool in
                guard state.enabled, state.shape === base, state.ready.count < target else { return false }
                state.ready.append(child)
                return true
            }
            if !keep { child.discard() }
        }
    }
}
