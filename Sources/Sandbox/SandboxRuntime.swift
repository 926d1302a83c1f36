/// The process-wide state behind ``Sandbox``, gathered in one owned value: the pools that take
/// work off a run's hot path (lent network namespaces, prespawned children, spawner threads), the
/// queue that releases namespaces, and the reused capture buffers. Every `Sandbox()` uses
/// ``shared``; a test may construct its own (a runtime's pools are its own, and its threads live as
/// long as the process, like the shared one's).
///
/// Not gathered here (process facts, kept as `Mutex` statics beside the code that computes them):
/// the base plan and template caches (`BasePlan`), the compiled-filter cache (`SeccompProfile`),
/// the host layout and loader cache (`HostLayout`), the cgroup bases made ready (`RunCgroup`) and
/// whether templates work (`SandboxTemplate`).
final class SandboxRuntime: Sendable {
    /// The runtime of this process.
    static let shared = SandboxRuntime()

    /// Empty network namespaces lent to runs (as root).
    let networks: NetworkNamespacePool
    /// Children prespawned ahead of their runs.
    let warmPool: WarmPool
    /// The threads that clone and supervise children.
    let spawners: SpawnerPool
    /// Closes namespace descriptors off the run's path.
    let releaser: NamespaceReleaser
    /// Output capture buffers kept for reuse.
    let captureBuffers: CaptureBuffers

    /// A runtime with the documented sizes: 64 idle network namespaces, 2 prespawned children per
    /// plan, 64 spawner threads.
    init(maximumIdleNetworks: Int = 64, prespawnTarget: Int = 2, maximumSpawners: Int = 64) {
        networks = NetworkNamespacePool(maximumIdle: maximumIdleNetworks)
        warmPool = WarmPool(target: prespawnTarget, networks: networks)
        spawners = SpawnerPool(maximumThreads: maximumSpawners)
        releaser = NamespaceReleaser()
        captureBuffers = CaptureBuffers()
    }
}
