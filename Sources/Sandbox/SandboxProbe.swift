import AirlockCore
import CSandbox

#if canImport(Glibc)
    import Glibc
#endif

/// What this host supports for confinement, each feature with a yes/no and why.
///
/// Probed once per process (cheap: a few syscalls and one throwaway clone per namespace set).
public struct SandboxProbe: Sendable, Codable, Hashable {
    /// One probed feature.
    public struct Feature: Sendable, Codable, Hashable {
        /// A stable name (`user-namespaces`, `seccomp-user-notif`, `landlock`).
        public var name: String
        /// Whether it can be used.
        public var available: Bool
        /// Why (or why not): the errno, the version, the path.
        public var detail: String
        /// Whether this is a confinement layer (`true`), or something that only changes how fast
        /// a sandbox starts, whose absence costs time and nothing else (`false`).
        public var isLayer: Bool = true
    }

    /// Every feature, in a stable order.
    public var features: [Feature]
    /// The Landlock ABI version, 0 when absent.
    public var landlockABI: Int
    /// Whether seccomp user notification (`SECCOMP_RET_USER_NOTIF`) is available.
    public var seccompUserNotif: Bool
    /// The cgroup setup the sandbox will use.
    public var cgroup: CgroupSupport
    /// Whether Airlock runs as host root.
    public var runningAsRoot: Bool
    /// The highest capability number of the kernel.
    public var capLastCap: Int
    /// Whether mounts can be cloned out of a detached mount tree (kernel 6.15 and later), which
    /// lets a prespawned child detach the host before its run.
    public var detachedMountClone: Bool

    /// Whether every confinement layer is available (what `airlock doctor` and the probe command
    /// report); speed-only features do not count.
    public var allLayersAvailable: Bool { features.allSatisfy { $0.available || !$0.isLayer } }

    /// The probe for this process, computed on first use. A run reads only ``RunSupport``, which
    /// creates no throwaway namespaces; this full report is for `airlock sandbox probe` and doctor.
    public static let current: SandboxProbe = probe()

    private static func probe() -> SandboxProbe {
        var features: [Feature] = []
        let userErr = al_probe_clone(al_clone_newuser)
        var userDetail =
            userErr == 0 ? "clone(CLONE_NEWUSER) works" : "clone(CLONE_NEWUSER): \(Posix.describe(userErr))"
        if let max = Posix.readSmallFile("/proc/sys/user/max_user_namespaces") {
            userDetail += "; max_user_namespaces=\(max.trimmingWhitespace)"
        }
        features.append(Feature(name: "user-namespaces", available: userErr == 0, detail: userDetail))
        let allErr = al_probe_clone(al_sandbox_namespaces)
        features.append(
            Feature(
                name: "all-namespaces", available: allErr == 0,
                detail: allErr == 0
                    ? "user, mnt, pid, net, ipc, uts, cgroup namespaces can be created together"
                    : "clone(user|mnt|pid|net|ipc|uts|cgroup): \(Posix.describe(allErr))"))

        let run = RunSupport.current
        features.append(
            Feature(name: "seccomp-filter", available: run.seccompFilter, detail: run.seccompFilterDetail))
        let notifyErr: Int32 = run.seccompUserNotif ? 0 : al_probe_seccomp_action(0x7fc0_0000)
        features.append(
            Feature(
                name: "seccomp-user-notif", available: notifyErr == 0,
                detail: notifyErr == 0
                    ? "SECCOMP_RET_USER_NOTIF available: refused syscalls are answered EPERM and recorded"
                    : "SECCOMP_RET_USER_NOTIF: \(Posix.describe(notifyErr))"))

        let abi = run.landlockABI
        var landlockDetail = abi > 0 ? "ABI \(abi)" : "landlock_create_ruleset: not available (kernel or LSM list)"
        if let lsm = Posix.readSmallFile("/sys/kernel/security/lsm") {
            landlockDetail += "; lsm=\(lsm.trimmingWhitespace)"
        }
        features.append(Feature(name: "landlock", available: abi > 0, detail: landlockDetail))

        let cgroup = RunSupport.cgroup
        features.append(Feature(name: "cgroups", available: cgroup.usable, detail: cgroup.detail))

        let clone3Err = al_probe_clone3()
        features.append(
            Feature(
                name: "clone3", available: clone3Err == 0,
                detail: clone3Err == 0
                    ? "clone3 present (sandboxed programs get ENOSYS for it and fall back to clone)"
                    : Posix.describe(clone3Err),
                isLayer: false))
        let detached = RunSupport.detachedMountClone
        features.append(
            Feature(
                name: "detached-mount-clone", available: detached,
                detail: detached
                    ? "open_tree can clone from a detached tree: without a template, the host is detached before a run starts"
                    : "not supported by this kernel: the host is detached during each start (slower, as safe)",
                isLayer: false))
        let templateReason = SandboxTemplate.unavailable
        features.append(
            Feature(
                name: "root-templates", available: templateReason == nil,
                detail: templateReason
                    ?? "sandboxes are cloned from a template root built once per distinct root: a start copies a dozen mounts and detaches nothing (no host tree in it)",
                isLayer: false))
        let pidfdErr = al_probe_pidfd()
        features.append(
            Feature(
                name: "pidfd", available: pidfdErr == 0,
                detail: pidfdErr == 0 ? "pidfd_open and CLONE_PIDFD available" : Posix.describe(pidfdErr)))

        return SandboxProbe(
            features: features, landlockABI: abi, seccompUserNotif: notifyErr == 0, cgroup: cgroup,
            runningAsRoot: geteuid() == 0, capLastCap: run.capLastCap, detachedMountClone: detached)
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
