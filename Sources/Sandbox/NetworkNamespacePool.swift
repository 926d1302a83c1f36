import AirlockCore
import CSandbox
import Synchronization

/// Empty network namespaces, each lent to one sandbox at a time and reused sequentially.
///
/// Creating and destroying a network namespace is the most expensive step of starting a
/// sandbox: measured here, about 0.4 ms of CPU to create and two more of kernel work to tear
/// down, per run. So, when Airlock runs as root, it keeps empty network namespaces open and lends
/// one to each run: the cloning thread enters it for the clone and the sandbox inherits it. A
/// namespace is never lent to two live sandboxes, and nothing survives from one run to the next:
/// its loopback stays down, no process in it ever holds a capability over it (so no address,
/// route, rule or sysctl can change), and every socket dies with the run's PID namespace.
/// Unprivileged, Airlock cannot make a network namespace outside a user namespace, and every
/// sandbox creates a fresh one (`CLONE_NEWNET`).
final class NetworkNamespacePool: Sendable {
    /// One lent namespace.
    struct Lease: Sendable {
        let fd: Int32
        let inode: UInt64
    }

    private let idle = Mutex<[Lease]>([])
    private let maximumIdle: Int
    /// The namespace the process started in, where a cloning thread returns after the clone.
    let home: Int32?

    init(maximumIdle: Int) {
        self.maximumIdle = maximumIdle
        let fd = geteuid() == 0 ? al_open_current_netns() : -1
        home = fd >= 0 ? fd : nil
    }

    /// A namespace for one run, or `nil` when the run must create its own.
    func acquire() -> Lease? {
        guard home != nil else { return nil }
        if let lease = idle.withLock({ $0.popLast() }) { return lease }
        var fd: Int32 = -1
        var inode: UInt64 = 0
        guard al_make_netns(&fd, &inode) == 0 else { return nil }
        return Lease(fd: fd, inode: inode)
    }

    /// Returns a namespace once its sandbox is gone (reaped: no process of it is left).
    func release(_ lease: Lease) {
        let kept = idle.withLock { idle -> Bool in
            guard idle.count < maximumIdle else { return false }
            idle.append(lease)
            return true
        }
        if !kept { Posix.close(lease.fd) }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
