import AirlockCore
import CSandbox

#if canImport(Glibc)
    import Glibc
#endif

/// The child's new root, as an ordered list of steps the C side applies after `pivot_root`,
/// with the evidence (mount table) and the Landlock rules that go with it.
///
/// The base's binds read the host through its root parked at ``oldRoot`` during setup; a run's,
/// as its ``BindSource`` says. For a template, the steps are split between the template and each
/// child (``templateBase()``, ``takeTemplateSteps()``); the records stay those of the whole plan.
struct MountPlan {
    /// One step for the C side.
    struct Step: Hashable {
        var kind: al_op_kind
        var target: String
        var source: String = ""
        var data: [UInt8] = []
        var flags: UInt32 = 0
        var mode: UInt32 = 0o755
        /// `AL_OP_BIND_FD`: which of ``MountPlan/bindSources`` the step attaches.
        var treeIndex: Int32 = -1
    }

    /// Where a run's binds read the host from.
    enum BindSource {
        /// The host root parked in the child's staging tmpfs (`AL_OP_BIND`).
        case parkedRoot
        /// The child's detached clone of the host's mount tree (`AL_OP_BIND_TREE`).
        case detachedTree
        /// Trees the parent clones from its own view of the host and sends with the run
        /// (`AL_OP_BIND_FD`): how a child of a template, which has no host in its tree, gets them.
        case parentTrees
    }

    /// One Landlock path rule (a path inside the sandbox and the access bits).
    struct LandlockRule {
        var path: String
        var access: UInt64
    }

    /// Where the host root is parked while the new root is built (inside the staging tmpfs).
    static let oldRoot = ".oldroot"
    /// An existing host directory the new root's tmpfs is mounted over (in the child's namespace only).
    static let stagingDirectory = "/tmp"

    private(set) var steps: [Step] = []
    private(set) var records: [MountRecord] = []
    private(set) var landlockRules: [LandlockRule] = []
    private var createdDirectories: Set<String> = ["/"]
    /// Where the binds of this plan read the host from.
    private(set) var binds = BindSource.parkedRoot
    /// With ``BindSource/parentTrees``: the host paths the parent clones, in `treeIndex` order.
    private(set) var bindSources: [String] = []

    /// Host directories made visible read-only when present (or recreated as the same symlink).
    static let systemPaths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]
    /// Host directories of `/etc` programs need (Debian's alternatives symlinks), when present.
    static let etcDirectories = ["/etc/alternatives"]
    /// Device nodes bound from the host.
    static let devices = ["null", "zero", "full", "random", "urandom"]

    /// Paths a caller's mount may not land on or under: they are the sandbox's own.
    static let reservedTrees = ["/proc", "/dev", "/" + oldRoot]
    /// Paths a caller's mount may not replace (though it may land inside them).
    static let reservedPaths = ["/etc", "/tmp", "/usr"]

    /// The part of every sandbox's root that does not depend on the run: the system directories,
    /// the minimal `/etc`, `/proc`, `/dev` and the `/tmp` mount point. Built once per shape and
    /// applied by prespawned children before their run is known.
    init(baseFor inner: (uid: UInt32, gid: UInt32), landlockABI: Int) {
        let ll = LandlockAccess(abi: landlockABI)
        landlockRules.append(LandlockRule(path: "/", access: ll.listDirectory))

        for entry in HostLayout.current.system {
            switch entry {
            case .symlink(let path, let link):
                add(Step(kind: AL_OP_SYMLINK, target: path, source: link), record: ("symlink", link, "-"))
            case .directory(let path):
                bind(host: path, target: path, writable: false, isDirectory: true)
                landlockRules.append(LandlockRule(path: path, access: ll.readExecute))
            }
        }

        // A minimal /etc: identity files naming only the sandbox user, plus what the loader needs.
        // Small files are written into the (soon read-only) root rather than bind-mounted: a write
        // costs less than a mount, and nothing of the host's /etc is reachable through them.
        mkdir("/etc")
        var files: [(String, [UInt8], String)] = [
            ("/etc/passwd", "airlock:x:\(inner.uid):\(inner.gid):Airlock sandbox:/tmp:/bin/sh\n", "generated"),
            ("/etc/group", "airlock:x:\(inner.gid):\n", "generated"),
            ("/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n", "generated"),
        ].map { ($0.0, Array($0.1.utf8), $0.2) }
        if let cache = HostLayout.loaderCache() {
            files.append(("/etc/ld.so.cache", cache, "copy of /etc/ld.so.cache"))
        }
        for (path, content, origin) in files {
            add(Step(kind: AL_OP_FILE, target: path, data: content, mode: 0o644), record: ("file", origin, "ro"))
        }
        if case .symlink(_, let link) = HostLayout.current.localtime {
            add(Step(kind: AL_OP_SYMLINK, target: "/etc/localtime", source: link), record: ("symlink", link, "-"))
        }
        for path in HostLayout.current.etcDirectories {
            bind(host: path, target: path, writable: false, isDirectory: true)
        }
        landlockRules.append(LandlockRule(path: "/etc", access: ll.readOnly))

        mkdir("/proc")
        add(Step(kind: AL_OP_PROC, target: "/proc"), record: ("proc", "proc", "rw,nosuid,nodev,noexec"))
        landlockRules.append(LandlockRule(path: "/proc", access: ll.readOnly))

        // /dev is a directory of the read-only root holding binds of a few host device nodes
        // (a device node cannot be executed, and set-id bits mean nothing on one).
        mkdir("/dev")
        for name in Self.devices { device(name) }
        for (name, link) in [
            ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ] {
            add(Step(kind: AL_OP_SYMLINK, target: "/dev/" + name, source: link), record: nil)
        }
        landlockRules.append(LandlockRule(path: "/dev", access: ll.devices))

        // The defaults of the run-dependent parts, so that a run with default values has nothing
        // left to mount or write but its own binds; a run with others overrides them.
        hostnameFiles(SandboxSpec.defaultHostname)
        mkdir("/tmp")
        tmp(size: SandboxLimits.defaultTmpSizeBytes)
        landlockRules.append(LandlockRule(path: "/tmp", access: ll.all))
    }

    /// The run's own part of the root, on top of `base`: its hostname files, `/tmp`, `/dev/tty`
    /// if asked, and the caller's mounts, each host path checked up front so errors name it.
    init(
        runFor spec: SandboxSpec, host: (uid: UInt32, gid: UInt32), landlockABI: Int, base: MountPlan,
        binds: BindSource
    ) throws(SandboxError) {
        createdDirectories = base.createdDirectories
        self.binds = binds
        let ll = LandlockAccess(abi: landlockABI)
        if spec.hostname != SandboxSpec.defaultHostname || !spec.corridors.isEmpty {
            hostnameFiles(spec.hostname, corridors: spec.corridors)
        }
        if spec.allowTTY { device("tty") }
        // A /tmp of another size is a fresh tmpfs over the base one (which nothing can reach).
        if spec.limits.tmpSizeBytes != SandboxLimits.defaultTmpSizeBytes {
            tmp(size: spec.limits.tmpSizeBytes)
            // Landlock rules name the directory they were made for: the new /tmp needs its own.
            landlockRules.append(LandlockRule(path: "/tmp", access: ll.all))
        }

        // The caller's mounts, shallowest first so a mount inside another lands on top of it.
        let ordered = spec.mounts.enumerated().sorted {
            ($0.element.target.split(separator: "/").count, $0.offset)
                < ($1.element.target.split(separator: "/").count, $1.offset)
        }
        for (_, mount) in ordered {
            let target = try Self.validateTarget(mount.target)
            guard mount.source.hasPrefix("/") else {
                throw SandboxError(.invalidSpec, "mount source \(mount.source): must be an absolute host path")
            }
            let resolved = Posix.statBindSource(mount.source)
            guard let st = resolved.status else {
                throw SandboxError(
                    .invalidSpec, "mount source \(mount.source): \(Self.describeResolution(resolved.errno))",
                    errno: resolved.errno)
            }
            let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
            if let blocked = Self.firstUnsearchableAncestor(of: mount.source, by: host) {
                throw SandboxError(
                    .invalidSpec,
                    "mount source \(mount.source): \(blocked) is not searchable by the sandbox's host user (uid "
                        + "\(host.uid), gid \(host.gid)), which sets up the mounts; give it o+x or choose a path under a "
                        + "directory that has it")
            }
            if mount.writable && !Self.writable(st, by: host) {
                throw SandboxError(
                    .invalidSpec,
                    "read-write mount \(mount.source): not writable by the sandbox's host user (uid \(host.uid), gid "
                        + "\(host.gid)); it is owned by uid \(st.st_uid) with mode \(String(st.st_mode & 0o7777, radix: 8)). "
                        + "chown it to \(host.uid) or make it group/other-writable")
            }
            bind(host: mount.source, target: target, writable: mount.writable, isDirectory: isDirectory)
            let access: UInt64
            switch (mount.writable, isDirectory) {
            case (true, true): access = ll.all
            case (true, false): access = ll.fileReadWrite
            case (false, true): access = ll.readExecute
            case (false, false): access = ll.fileReadExecute
            }
            landlockRules.append(LandlockRule(path: target, access: access))
        }

        let workdir = spec.workingDirectory
        guard workdir.hasPrefix("/") else {
            throw SandboxError(
                .invalidSpec, "working directory \(workdir): must be an absolute path inside the sandbox")
        }
    }

    /// Why a bind source could not be resolved, for a person: `ELOOP` and `EXDEV` mean the path
    /// holds a symlink or leaves its root, which a bind never follows.
    static func describeResolution(_ err: Int32) -> String {
        let text = Posix.describe(err)
        guard err == ELOOP || err == EXDEV else { return text }
        return text + " (a symlink on the way: binds resolve host paths without following symlinks; name the real path)"
    }

    /// The first directory on the way to `path` the host user may not pass through, or `nil`.
    static func firstUnsearchableAncestor(of path: String, by host: (uid: UInt32, gid: UInt32)) -> String? {
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix += "/" + component
            guard let st = Posix.statPath(prefix) else { return prefix }
            let searchable: Bool
            if st.st_uid == host.uid {
                searchable = st.st_mode & 0o100 != 0
            } else if st.st_gid == host.gid {
                searchable = st.st_mode & 0o010 != 0
            } else {
                searchable = st.st_mode & 0o001 != 0
            }
            if !searchable { return prefix }
        }
        return nil
    }

    /// Whether the host user can write to a file or directory with this status, by its mode bits.
    static func writable(_ st: stat, by host: (uid: UInt32, gid: UInt32)) -> Bool {
        if st.st_uid == host.uid { return st.st_mode & 0o200 != 0 }
        if st.st_gid == host.gid { return st.st_mode & 0o020 != 0 }
        return st.st_mode & 0o002 != 0
    }

    /// Rejects relative, `..`-bearing, NUL-bearing and reserved mount targets.
    static func validateTarget(_ target: String) throws(SandboxError) -> String {
        guard target.hasPrefix("/") else {
            throw SandboxError(.invalidSpec, "mount target \(target): must be an absolute path inside the sandbox")
        }
        let components = target.split(separator: "/")
        guard !components.contains(".."), !components.contains("."), !target.utf8.contains(0) else {
            throw SandboxError(.invalidSpec, "mount target \(target): '.', '..' and NUL are not allowed")
        }
        let normalised = "/" + components.joined(separator: "/")
        guard normalised != "/" else {
            throw SandboxError(.invalidSpec, "mount target /: the root is the sandbox's own")
        }
        for reserved in reservedTrees where normalised == reserved || normalised.hasPrefix(reserved + "/") {
            throw SandboxError(.invalidSpec, "mount target \(normalised): \(reserved) is the sandbox's own")
        }
        if reservedPaths.contains(normalised) {
            throw SandboxError(
                .invalidSpec, "mount target \(normalised): \(normalised) is the sandbox's own (mount inside it instead)"
            )
        }
        return normalised
    }

    private mutating func add(_ step: Step, record: (kind: String, source: String, options: String)?) {
        steps.append(step)
        if let record {
            records.append(
                MountRecord(target: step.target, kind: record.kind, source: record.source, options: record.options))
        }
    }

    /// The Landlock rules as the C side takes them, with every path copied into `arena`.
    func cLandlockRules(in arena: CStringArena) -> [al_landlock_rule] {
        landlockRules.map { al_landlock_rule(path: UnsafePointer(arena.string($0.path)), access: $0.access) }
    }

    /// Options of the tmpfs a root is built on (a child's or a template's).
    static let rootTmpfsOptions = "mode=0755,size=1m"

    /// The steps as the C side takes them, with every string copied into `arena`.
    func cOperations(in arena: CStringArena) -> [al_mount_op] {
        Self.cOperations(steps, in: arena)
    }

    /// `steps` as the C side takes them, with every string copied into `arena`.
    static func cOperations(_ steps: [Step], in arena: CStringArena) -> [al_mount_op] {
        steps.map { step in
            al_mount_op(
                kind: Int32(step.kind.rawValue), flags: step.flags, mode: step.mode,
                source: step.source.isEmpty ? nil : UnsafePointer(arena.string(step.source)),
                target: UnsafePointer(arena.string(step.target)),
                data: step.data.isEmpty
                    ? nil : UnsafeRawPointer(arena.array(step.data)).assumingMemoryBound(to: CChar.self),
                data_len: step.kind == AL_OP_FILE ? step.data.count : 0, fd_index: step.treeIndex)
        }
    }

    /// `/etc/hostname` and `/etc/hosts`; a corridor's names resolve to its listener's address.
    private mutating func hostnameFiles(_ hostname: String, corridors: [Corridor] = []) {
        var hosts = "127.0.0.1\tlocalhost \(hostname)\n::1\tlocalhost\n"
        var named: Set<String> = []
        for corridor in corridors where named.insert(corridor.host).inserted {
            hosts += "\(corridor.insideAddress)\t\(corridor.host)\n"
        }
        let files: [(String, String)] = [("/etc/hostname", hostname + "\n"), ("/etc/hosts", hosts)]
        for (path, content) in files {
            add(
                Step(kind: AL_OP_FILE, target: path, data: Array(content.utf8), mode: 0o644),
                record: ("file", "generated", "ro"))
        }
    }

    private mutating func tmp(size: UInt64) {
        add(
            Step(kind: AL_OP_TMPFS, target: "/tmp", data: Array("mode=1777,size=\(size)\0".utf8)),
            record: ("tmpfs", "size=\(size)", "rw,nosuid,nodev"))
    }

    private mutating func device(_ name: String) {
        let path = "/dev/" + name
        add(Step(kind: AL_OP_TOUCH, target: path, mode: 0o666), record: nil)
        add(bindStep(host: path, target: path), record: ("dev", path, "rw"))
    }

    private mutating func mkdir(_ path: String) {
        // Parents first; each directory once.
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if createdDirectories.insert(prefix).inserted {
                steps.append(Step(kind: AL_OP_MKDIR, target: prefix, mode: 0o755))
            }
        }
    }

    private mutating func bind(host: String, target: String, writable: Bool, isDirectory: Bool) {
        if isDirectory {
            mkdir(target)
        } else {
            if let slash = target.lastIndex(of: "/"), slash != target.startIndex { mkdir(String(target[..<slash])) }
            if createdDirectories.insert(target).inserted {
                steps.append(Step(kind: AL_OP_TOUCH, target: target, mode: 0o644))
            }
        }
        let flags = AL_MNT_NOSUID | AL_MNT_NODEV | (writable ? 0 : AL_MNT_RDONLY)
        add(
            bindStep(host: host, target: target, flags: flags),
            record: ("bind", host, writable ? "rw,nosuid,nodev" : "ro,nosuid,nodev"))
    }

    /// A bind of a host path, read as ``binds`` says.
    private mutating func bindStep(host: String, target: String, flags: UInt32 = 0) -> Step {
        switch binds {
        case .parkedRoot:
            return Step(kind: AL_OP_BIND, target: target, source: "/" + Self.oldRoot + host, flags: flags)
        case .detachedTree:
            return Step(kind: AL_OP_BIND_TREE, target: target, source: String(host.drop { $0 == "/" }), flags: flags)
        case .parentTrees:
            bindSources.append(host)
            return Step(
                kind: AL_OP_BIND_FD, target: target, source: host, flags: flags,
                treeIndex: Int32(bindSources.count - 1))
        }
    }

    /// For a template (see `al_template_build`): the base's steps split into the template's and
    /// each child's own. The template binds the host's `/proc` where the sandbox's goes: a user
    /// namespace may mount a new proc only where one is already fully visible (the kernel's
    /// `mount_too_revealing`), and each child covers it with its own. A child mounts that and its
    /// `/tmp`; everything else is the template's, built once.
    func templateBase() -> (template: [Step], child: [Step]) {
        var template: [Step] = []
        var child: [Step] = []
        for step in steps {
            switch step.kind {
            case AL_OP_PROC:
                template.append(Step(kind: AL_OP_BIND, target: step.target, source: "/" + Self.oldRoot + step.target))
                child.append(step)
            case AL_OP_TMPFS:
                child.append(step)
            default:
                template.append(step)
            }
        }
        return (template, child)
    }

    /// For a run from a template: takes out the steps that shape the root itself (directories,
    /// files and symlinks outside every mount the child makes) and returns them, for the template;
    /// what is left runs in the child, in order. A run's template holds exactly the mount points
    /// and files its own plan would have created, so it sees what a run without a template sees.
    /// `nil` (and nothing taken) when the run has more binds than one message can carry.
    mutating func takeTemplateSteps() -> [Step]? {
        guard binds == .parentTrees, bindSources.count <= Int(AL_MAX_RUN_TREES) else { return nil }
        var childMounts = ["/proc", "/tmp"]
        func insideChildMount(_ path: String) -> Bool {
            childMounts.contains { path == $0 || path.hasPrefix($0 + "/") }
        }
        var template: [Step] = []
        var child: [Step] = []
        let shapingKinds = [AL_OP_MKDIR, AL_OP_TOUCH, AL_OP_FILE, AL_OP_SYMLINK]
        for step in steps {
            if shapingKinds.contains(step.kind) && !insideChildMount(step.target) {
                template.append(step)
            } else {
                if step.kind == AL_OP_BIND_FD || step.kind == AL_OP_TMPFS { childMounts.append(step.target) }
                child.append(step)
            }
        }
        steps = child
        return template
    }
}

extension MountPlan.Step {
    /// This step, named for an error message: `stage` is what failed ("mount", "mount_setattr").
    func failureName(stage: String) -> String {
        let source = source.replacingOccurrences(of: "/" + MountPlan.oldRoot, with: "")
        switch kind {
        case AL_OP_BIND, AL_OP_BIND_FD: return "\(stage)(bind \(source) → \(target))"
        case AL_OP_BIND_TREE: return "\(stage)(bind /\(source) → \(target))"
        case AL_OP_MKDIR: return "mkdir(\(target))"
        case AL_OP_TOUCH, AL_OP_FILE: return "create(\(target))"
        case AL_OP_SYMLINK: return "symlink(\(target) → \(source))"
        case AL_OP_TMPFS: return "\(stage)(tmpfs \(target))"
        case AL_OP_PROC: return "\(stage)(proc \(target))"
        default: return "\(stage)(\(target))"
        }
    }
}

/// Landlock access bits for the ABI in use (rights a kernel does not know are never asked for).
struct LandlockAccess {
    static let execute: UInt64 = 1 << 0
    static let writeFile: UInt64 = 1 << 1
    static let readFile: UInt64 = 1 << 2
    static let readDir: UInt64 = 1 << 3
    static let refer: UInt64 = 1 << 13
    static let truncate: UInt64 = 1 << 14
    static let ioctlDev: UInt64 = 1 << 15

    let abi: Int

    /// Every filesystem right this ABI can restrict.
    var handledFilesystem: UInt64 {
        guard abi > 0 else { return 0 }
        var bits: UInt64 = (1 << 13) - 1
        if abi >= 2 { bits |= Self.refer }
        if abi >= 3 { bits |= Self.truncate }
        if abi >= 5 { bits |= Self.ioctlDev }
        return bits
    }

    /// TCP bind and connect, restricted with no rule granting them (ABI 4+).
    var handledNetwork: UInt64 { abi >= 4 ? 0b11 : 0 }
    /// Abstract unix sockets and signals scoped to the sandbox (ABI 6+).
    var scoped: UInt64 { abi >= 6 ? 0b11 : 0 }

    var all: UInt64 { handledFilesystem }
    var listDirectory: UInt64 { Self.readDir & handledFilesystem }
    var readOnly: UInt64 { (Self.readFile | Self.readDir) & handledFilesystem }
    var readExecute: UInt64 { (Self.execute | Self.readFile | Self.readDir) & handledFilesystem }
    var fileReadExecute: UInt64 { (Self.execute | Self.readFile) & handledFilesystem }
    var fileReadWrite: UInt64 {
        (Self.execute | Self.readFile | Self.writeFile | Self.truncate | Self.ioctlDev) & handledFilesystem
    }
    var devices: UInt64 {
        (Self.readFile | Self.writeFile | Self.readDir | Self.truncate | Self.ioctlDev) & handledFilesystem
    }
}
