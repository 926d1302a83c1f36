import AirlockCore
import CSandbox
import Synchronization

/// The seccomp allowlist, and the compiled BPF programs built from it (one per distinct set of
/// syscall groups and deny mode, compiled once per process and reused for every run).
///
/// Default deny: a syscall not named here is answered EPERM and recorded. The list is wide
/// enough for ordinary programs (sh, coreutils, python3, sqlite3) and no wider.
enum SeccompProfile {
    /// Allowed for every sandboxed program. Argument filters are applied in the C builder to
    /// `socket`/`socketpair` (AF_UNIX only), `clone`/`unshare` (no namespace flags) and `ioctl`
    /// (no TIOCSTI/TIOCLINUX); `clone3` answers ENOSYS so libc falls back to `clone`.
    static let baseline: [String] = [
        // files and descriptors
        "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
        "open", "openat", "openat2", "creat", "close", "close_range", "dup", "dup2", "dup3", "fcntl", "flock",
        "lseek", "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat",
        "faccessat2", "readlink", "readlinkat", "getdents", "getdents64", "getcwd", "chdir", "fchdir",
        "mkdir", "mkdirat", "rmdir", "rename", "renameat", "renameat2", "link", "linkat", "unlink", "unlinkat",
        "symlink", "symlinkat", "chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat",
        "umask", "truncate", "ftruncate", "fallocate", "fadvise64", "readahead", "fsync", "fdatasync",
        "sync", "syncfs", "sync_file_range", "utime", "utimes", "utimensat", "futimesat", "mknod", "mknodat",
        "sendfile", "copy_file_range", "splice", "tee", "vmsplice", "pipe", "pipe2", "ioctl",
        "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
        "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "memfd_create",
        // memory
        "brk", "mmap", "munmap", "mremap", "mprotect", "msync", "mincore", "madvise", "membarrier",
        "get_mempolicy",
        // processes and threads
        "clone", "clone3", "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
        "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid", "unshare",
        "set_tid_address", "set_robust_list", "get_robust_list", "futex", "futex_waitv", "rseq",
        "arch_prctl", "prctl", "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
        "sched_getscheduler", "sched_getattr", "sched_get_priority_max", "sched_get_priority_min",
        "sched_rr_get_interval", "getpriority", "setpriority", "ioprio_get", "getcpu", "capget", "capset",
        "getrlimit", "setrlimit", "prlimit64", "getrusage", "times", "sysinfo", "uname",
        "pidfd_open", "pidfd_send_signal", "seccomp", "landlock_create_ruleset", "landlock_add_rule",
        "landlock_restrict_self",
        // identity (no capabilities remain, so the set* calls can only keep or drop)
        "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "setuid", "setgid",
        "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid",
        // signals
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo",
        "rt_tgsigqueueinfo", "rt_sigsuspend", "sigaltstack", "kill", "tkill", "tgkill", "pause", "alarm",
        "signalfd", "signalfd4",
        // time
        "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
        "getitimer", "setitimer", "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun",
        "timer_delete", "timerfd_create", "timerfd_settime", "timerfd_gettime",
        // waiting and events
        "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
        "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "restart_syscall", "getrandom",
        // local IPC (the IPC namespace is the sandbox's own; sockets are AF_UNIX only)
        "socket", "socketpair", "connect", "accept", "accept4", "bind", "listen", "shutdown",
        "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "getsockname", "getpeername",
        "setsockopt", "getsockopt", "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semtimedop",
        "semctl", "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend",
        "mq_timedreceive", "mq_notify", "mq_getsetattr",
    ]

    /// Never allowed, whatever a manifest asks for: each answers EPERM and is recorded.
    static let alwaysDenied: [String] = [
        "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "process_madvise",
        "mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig", "fspick",
        "mount_setattr", "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
        "io_uring_setup", "io_uring_enter", "io_uring_register", "kexec_load", "kexec_file_load",
        "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff", "open_by_handle_at",
        "name_to_handle_at", "acct", "quotactl", "quotactl_fd", "syslog", "settimeofday", "clock_settime",
        "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "vhangup", "iopl", "ioperm",
        "fanotify_init", "lookup_dcookie", "nfsservctl", "personality", "uselib", "ustat", "sysfs",
    ]

    /// What each optional group adds.
    static func syscalls(for group: SyscallGroup) -> [String] {
        switch group {
        case .processTuning:
            [
                "mlock", "mlock2", "munlock", "mlockall", "munlockall", "sched_setscheduler", "sched_setparam",
                "sched_setattr", "ioprio_set", "set_mempolicy", "mbind",
            ]
        case .selfConfine:
            ["chroot"]
        }
    }

    /// A compiled filter, ready to hand to the child.
    final class Compiled: Sendable {
        /// The BPF instructions (8 bytes each).
        let bytes: [UInt8]
        /// SHA-256 of `bytes`, the evidence a reviewer can check.
        let sha256: String
        let instructionCount: Int
        /// Whether refused calls go to the supervisor (`true`) or are answered by the kernel.
        let notifies: Bool

        init(bytes: [UInt8], instructionCount: Int, notifies: Bool) {
            self.bytes = bytes
            self.sha256 = SHA256.hex(bytes)
            self.instructionCount = instructionCount
            self.notifies = notifies
        }

        /// How refused calls are handled, for the execution record.
        var denyAction: String {
            notifies ? "SECCOMP_RET_USER_NOTIF → EPERM (recorded)" : "SECCOMP_RET_ERRNO(EPERM) (not recorded)"
        }
    }

    private struct CacheKey: Hashable {
        var groups: Set<SyscallGroup>
        var notify: Bool
        var tcpClient: Bool
    }

    private static let cache = Mutex<[CacheKey: Compiled]>([:])

    /// The compiled program for `groups`, built on first use and cached for the process. With
    /// `tcpClient` (a run with corridors), `socket` also allows AF_INET TCP stream sockets and
    /// each `connect` goes to the supervisor, which lets through only those to a corridor.
    static func compiled(groups: Set<SyscallGroup>, notify: Bool, tcpClient: Bool = false) throws(SandboxError)
        -> Compiled
    {
        let key = CacheKey(groups: groups, notify: notify, tcpClient: tcpClient)
        if let hit = cache.withLock({ $0[key] }) { return hit }
        var names = baseline
        for group in SyscallGroup.allCases where groups.contains(group) { names += syscalls(for: group) }
        let program = try build(allowed: names, denied: alwaysDenied, notify: notify, tcpClient: tcpClient)
        cache.withLock { $0[key] = program }
        return program
    }

    private static func build(allowed: [String], denied: [String], notify: Bool, tcpClient: Bool) throws(SandboxError)
        -> Compiled
    {
        let arena = CStringArena()
        let allowedPointers: [UnsafePointer<CChar>?] = allowed.map { UnsafePointer(arena.string($0)) }
        let deniedPointers: [UnsafePointer<CChar>?] = denied.map { UnsafePointer(arena.string($0)) }
        var program = al_seccomp_program()
        var badName: UnsafePointer<CChar>? = nil
        let rc = allowedPointers.withUnsafeBufferPointer { allowedBuffer in
            deniedPointers.withUnsafeBufferPointer { deniedBuffer in
                al_seccomp_build(
                    allowedBuffer.baseAddress, allowed.count, deniedBuffer.baseAddress, denied.count,
                    Int32(notify ? AL_DENY_NOTIFY.rawValue : AL_DENY_ERRNO.rawValue), tcpClient ? 1 : 0, &program,
                    &badName)
            }
        }
        defer { al_seccomp_free(&program) }
        guard rc == 0, let instructions = program.instructions else {
            let name = badName.map { " (syscall \(String(cString: $0)))" } ?? ""
            throw SandboxError(
                .setupFailed, "seccomp: building the filter failed\(name): \(Posix.describe(Int32(-rc)))",
                errno: Int32(-rc))
        }
        let bytes = Array(UnsafeRawBufferPointer(start: instructions, count: program.byte_count))
        return Compiled(bytes: bytes, instructionCount: Int(program.instruction_count), notifies: notify)
    }

    /// The name of a syscall number, for denial records.
    static func name(of number: Int32) -> String {
        guard let pointer = al_seccomp_syscall_name(number) else { return "syscall_\(number)" }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}

#if canImport(Glibc)
    import Glibc
#endif
