import CSandbox
import Foundation
import Synchronization

/// The part of a sandbox that does not depend on its run, as the C side takes it: identity maps,
/// namespaces and the base mount plan, in memory that stays put for as long as any child built
/// from it may still read it (the plan is immutable once made, and kept alive by its children).
///
/// A plan either has each child build the whole root (``current(inner:host:dropGroups:landlockABI:)``)
/// or clones its children from a template that holds the root already (``templated(skeleton:)``).
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
    /// The whole base, as every sandbox of this shape sees it (its records are the evidence).
    let mounts: MountPlan
    /// The steps the child itself applies in its base phase: all of ``mounts``, or with a
    /// template only a new `/proc` and `/tmp`.
    let childSteps: [MountPlan.Step]
    /// The template children are cloned from, or `nil`.
    let template: SandboxTemplate?
    /// The mount table of this base for the evidence: with a template, the host's `/proc` the
    /// sandbox's covers is in it (see ``SandboxTemplate``).
    let records: [MountRecord]
    /// How a run of this plan binds host paths.
    var binds: MountPlan.BindSource {
        template != nil ? .parentTrees : shape.detachedHostTree ? .detachedTree : .parkedRoot
    }
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
            detachedHostTree: RunSupport.detachedMountClone, loaderCacheBytes: HostLayout.loaderCache() ?? [])
        if let plan = latest.withLock({ $0 }), plan.shape == shape { return plan }
        let mounts = MountPlan(baseFor: inner, landlockABI: landlockABI)
        let plan = BasePlan(shape: shape, mounts: mounts, childSteps: mounts.steps, template: nil)
        latest.withLock { $0 = plan }
        return plan
    }

    /// Templates kept, most recently used last: one per distinct root a run needs.
    static let templatesKept = 8
    private struct TemplateKey: Hashable {
        var shape: Shape
        var skeleton: [MountPlan.Step]
    }
    private static let templates = Mutex<[(key: TemplateKey, plan: BasePlan)]>([])
    /// Held while a template is built, so that two runs needing the same one build it once.
    private static let building = Mutex(())

    /// This (whole-root) plan with its children cloned from a template whose root is this plan's
    /// plus `skeleton` (a run's own mount points and files, from ``MountPlan/takeTemplateSteps()``).
    /// Built on first use and kept; `nil` when it cannot be built (see ``SandboxTemplate/build(base:skeleton:)``).
    func templated(skeleton: [MountPlan.Step]) -> BasePlan? {
        let key = TemplateKey(shape: shape, skeleton: skeleton)
        if let cached = Self.cachedTemplate(key) { return cached }
        return Self.building.withLock { _ -> BasePlan? in
            if let cached = Self.cachedTemplate(key) { return cached }
            let split = mounts.templateBase()
            guard let template = SandboxTemplate.build(base: split.template, skeleton: skeleton) else { return nil }
            let plan = BasePlan(shape: shape, mounts: mounts, childSteps: split.child, template: template)
            Self.templates.withLock { entries in
                entries.append((key, plan))
                if entries.count > Self.templatesKept { entries.removeFirst() }
            }
            return plan
        }
    }

    /// The kept plan for `key`, marked most recently used, or `nil`.
    private static func cachedTemplate(_ key: TemplateKey) -> BasePlan? {
        templates.withLock { entries -> BasePlan? in
            guard let index = entries.firstIndex(where: { $0.key == key }) else { return nil }
            let entry = entries.remove(at: index)
            entries.append(entry)
            return entry.plan
        }
    }

    private init(shape: Shape, mounts: MountPlan, childSteps: [MountPlan.Step], template: SandboxTemplate?) {
        self.shape = shape
        self.mounts = mounts
        self.childSteps = childSteps
        self.template = template
        var records = mounts.records
        if template != nil {
            let covered = MountRecord(
                target: "/proc", kind: "bind", source: "/proc (the host's, covered by the sandbox's own)",
                options: "covered")
            records.insert(covered, at: records.firstIndex { $0.kind == "proc" } ?? records.endIndex)
        }
        self.records = records
        uidMap = "\(shape.inner[0]) \(shape.host[0]) 1\n"
        gidMap = "\(shape.inner[1]) \(shape.host[1]) 1\n"
        uidMapPointer = UnsafePointer(arena.string(uidMap))
        gidMapPointer = UnsafePointer(arena.string(gidMap))
        var plan = al_base_plan()
        plan.clone_flags = al_sandbox_namespaces
        plan.from_template = template != nil ? 1 : 0
        plan.inner_uid = shape.inner[0]
        plan.inner_gid = shape.inner[1]
        plan.host_uid = shape.host[0]
        plan.host_gid = shape.host[1]
        plan.drop_groups = shape.dropGroups ? 1 : 0
        plan.staging_dir = UnsafePointer(arena.string(MountPlan.stagingDirectory))
        plan.old_root_name = UnsafePointer(arena.string(MountPlan.oldRoot))
        plan.root_tmpfs_options = UnsafePointer(arena.string(MountPlan.rootTmpfsOptions))
        let ops = MountPlan.cOperations(childSteps, in: arena)
        plan.ops = UnsafePointer(arena.array(ops))
        plan.op_count = ops.count
        plan.detached_host_tree = template == nil && shape.detachedHostTree ? 1 : 0
        plan.cap_last_cap = Int32(RunSupport.current.capLastCap)
        let access = LandlockAccess(abi: shape.landlockABI)
        let rules = mounts.cLandlockRules(in: arena)
        plan.landlock_abi = Int32(shape.landlockABI)
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
    /// - Parameter lendNetwork: whether the child may get a lent network namespace (as root);
    ///   `false` for a corridor run, whose child must own its namespace to set up its listeners.
    func prespawn(networks: NetworkNamespacePool, lendNetwork: Bool = true) throws(SandboxError) -> PrespawnedChild {
        let network = lendNetwork ? networks.acquire() : nil
        var steps = al_parent_steps()
        steps.uid_map = uidMapPointer
        steps.gid_map = gidMapPointer
        steps.deny_setgroups = shape.dropGroups ? 0 : 1
        steps.join_netns_fd = network?.fd ?? -1
        steps.restore_netns_fd = networks.home ?? -1
        steps.template_fd = template?.fd ?? -1
        var handle: OpaquePointer? = nil
        var failure = al_child_failure()
        let rc = al_prespawn(pointer, &steps, &handle, &failure)
        guard rc == 0, let handle else {
            if let network { networks.release(network) }
            throw SandboxError.parentStep(failure)
        }
        return PrespawnedChild(base: self, handle: handle, network: network, networks: networks)
    }
}

/// A child that has set up its base and waits for a run; owns its lent network namespace.
final class PrespawnedChild: @unchecked Sendable {
    let base: BasePlan
    let network: NetworkNamespacePool.Lease?
    /// The pool `network` returns to.
    let networks: NetworkNamespacePool
    private(set) var handle: OpaquePointer?

    init(
        base: BasePlan, handle: OpaquePointer, network: NetworkNamespacePool.Lease?, networks: NetworkNamespacePool
    ) {
        self.base = base
        self.handle = handle
        self.network = network
        self.networks = networks
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
        if let network { networks.release(network) }
    }
}

/// Children prespawned ahead of their runs, so that a run pays only for its own part of the setup.
///
/// A background thread keeps ``target`` children of the most recently used plan waiting; it is
/// started by the second run and lives as long as the process (the children's parent-death signal
/// is tied to it). Children already waiting for the ``plansKept`` most recently used plans stay
/// (an agent alternating between two tools, each with its own template, keeps both warm). A run
/// takes one if its plan matches and otherwise prespawns its own on the spot, so the pool changes
/// how long a start takes, never what a sandbox is.
final class WarmPool: Sendable {
    /// How many children are kept waiting for the most recent plan.
    let target: Int
    /// How many plans keep their waiting children.
    static let plansKept = 4
    /// Starts a process makes before children are prespawned for it.
    static let requestsBeforeFilling = 2

    private struct State {
        /// Waiting children per plan, the most recently used plan last.
        var ready: [(plan: BasePlan, children: [PrespawnedChild])] = []
        var fillerStarted = false
        var enabled = true
        var requests = 0
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    /// The pool lent network namespaces come from, and return to.
    let networks: NetworkNamespacePool

    init(target: Int, networks: NetworkNamespacePool) {
        self.target = target
        self.networks = networks
    }

    /// A waiting child built from `base`, or `nil` (the caller then prespawns its own).
    func take(for base: BasePlan) -> PrespawnedChild? {
        let (child, stale, startFiller) = state.withLock { state -> (PrespawnedChild?, [PrespawnedChild], Bool) in
            guard state.enabled else { return (nil, [], false) }
            var entry =
                state.ready.firstIndex { $0.plan === base }.map { state.ready.remove(at: $0) }
                ?? (plan: base, children: [])
            let child = entry.children.isEmpty ? nil : entry.children.removeFirst()
            state.ready.append(entry)
            let stale = state.ready.count > Self.plansKept ? state.ready.removeFirst().children : []
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
            return state.ready.flatMap(\.children)
        }
        for child in children { child.discard() }
    }

    /// The pids of the children waiting now.
    var waitingPids: [pid_t] { state.withLock { $0.ready.flatMap { $0.children.map(\.pid) } } }

    private func fill() {
        while true {
            let base: BasePlan? = state.withLock { state in
                guard state.enabled, let last = state.ready.last, last.children.count < target else { return nil }
                return last.plan
            }
            guard let base else {
                wake.wait()
                continue
            }
            guard let child = try? base.prespawn(networks: networks) else {
                // Leave it to the runs, which prespawn their own and report why it fails.
                wake.wait()
                continue
            }
            let keep = state.withLock { state -> Bool in
                guard state.enabled, let index = state.ready.firstIndex(where: { $0.plan === base }),
                    state.ready[index].children.count < target
                else { return false }
                state.ready[index].children.append(child)
                return true
            }
            if !keep { child.discard() }
        }
    }
}
