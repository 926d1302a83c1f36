import AirlockCore
import CSandbox

#if canImport(Glibc)
    import Glibc
#endif

/// What a run needs to know about the host, probed once per process with a few syscalls: no
/// throwaway namespaces, so that a process that starts one sandbox (`airlock sandbox run`) does
/// not pay for the whole ``SandboxProbe`` report. Whether namespaces can be created is not asked
/// ahead: a start that cannot create them fails with the stage and the errno.
struct RunSupport: Sendable {
    /// Whether seccomp filters can be loaded, and why (not).
    var seccompFilter: Bool
    var seccompFilterDetail: String
    /// Whether `SECCOMP_RET_USER_NOTIF` is available.
    var seccompUserNotif: Bool
    /// The Landlock ABI version, 0 when absent.
    var landlockABI: Int
    /// The highest capability number of the kernel.
    var capLastCap: Int

    /// This process's, on first use.
    static let current: RunSupport = {
        let filterErr = al_probe_seccomp_action(0x7fff_0000)  // SECCOMP_RET_ALLOW
        return RunSupport(
            seccompFilter: filterErr == 0,
            seccompFilterDetail: filterErr == 0
                ? "seccomp(SECCOMP_SET_MODE_FILTER) available" : Posix.describe(filterErr),
            seccompUserNotif: al_probe_seccomp_action(0x7fc0_0000) == 0,  // SECCOMP_RET_USER_NOTIF
            landlockABI: Int(al_probe_landlock_abi()), capLastCap: Int(al_probe_cap_last_cap()))
    }()

    /// The cgroup setup, detected on first use: only runs with a memory limit need one.
    static let cgroup: CgroupSupport = CgroupSupport.detect()

    /// Whether mounts can be cloned out of a detached mount tree (one throwaway clone, on first
    /// use: a prespawned child's plan needs it).
    static let detachedMountClone: Bool = al_probe_detached_clone() == 0
}
