/*
 * al_spawn: start one confined child, in two phases.
 *
 * The parent (Swift) prepares everything that allocates: path strings, the mount plans, the
 * seccomp BPF program, the Landlock rules, argv and envp. al_prespawn clones the child into new
 * user, mount, PID, (network,) IPC, UTS and cgroup namespaces, sharing the parent's memory until
 * execve (like posix_spawn), and writes its uid/gid maps; the child then sets up everything that
 * does not depend on the run (identity, the staged root, the system mounts) and waits. al_start
 * hands it its run: its streams, its own mounts, limits, Landlock, seccomp and the program. A
 * child can be prespawned ahead of time so that a run pays only for the second phase. The child
 * applies the plans with raw syscalls only (no allocation, no errno, no Swift). A failure in the
 * child is reported as (stage, index, errno) over a close-on-exec pipe; success is that pipe
 * reaching EOF at execve.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What one step of the child's mount plan does. */
enum al_op_kind {
    AL_OP_MKDIR = 1,   /* mkdir target (mode) */
    AL_OP_BIND = 2,    /* bind source onto target (recursive); AL_MNT_* flags apply */
    AL_OP_TMPFS = 3,   /* mount tmpfs on target with data as options */
    AL_OP_PROC = 4,    /* mount a new proc on target */
    AL_OP_SYMLINK = 5, /* symlink target -> source */
    AL_OP_FILE = 6,    /* create target (mode) and write data_len bytes of data */
    AL_OP_TOUCH = 7,   /* create an empty file target (a mount point for a file bind) */
    AL_OP_BIND_TREE = 9, /* clone source (relative to the host root) from the detached host tree onto target */
    AL_OP_BIND_FD = 10,  /* move the run's detached tree number fd_index (cloned by the parent) onto target */
};

/* Most host trees one run may receive (AL_OP_BIND_FD), with its three standard streams in the
 * same message; a run with more binds is built without a template. */
#define AL_MAX_RUN_TREES 61

/* Most loopback listeners one run may ask for (al_run_plan.loopback_ports): one per corridor. */
#define AL_MAX_LOOPBACK_PORTS 16

/* Flags of a mount step. */
#define AL_MNT_RDONLY 0x1u
#define AL_MNT_NOEXEC 0x2u
#define AL_MNT_NOSUID 0x4u
#define AL_MNT_NODEV 0x8u

/* One step of the mount plan; all strings are owned by the parent and outlive the spawn. */
struct al_mount_op {
    int32_t kind;
    uint32_t flags;
    uint32_t mode;
    const char *source;
    const char *target;
    const char *data;
    size_t data_len;
    /* AL_OP_BIND_FD: which of the run's host trees (al_run_plan.bind_sources) to attach. */
    int32_t fd_index;
};

/* One Landlock path-beneath rule: a path inside the new root and the access it grants. */
struct al_landlock_rule {
    const char *path;
    uint64_t access;
};

/* One resource limit (RLIMIT_*), applied with prlimit64 in the child. */
struct al_rlimit {
    int32_t resource;
    uint64_t soft;
    uint64_t hard;
};

/* A BPF program as the kernel takes it (struct sock_fprog). */
struct al_bpf_program {
    uint16_t length;
    const void *filter;
};

/*
 * What every sandbox of one shape shares, applied by the child before its run is known:
 * namespaces, identity, the staged root and the mounts that do not depend on the run.
 * Owned by the caller; must stay valid until the child has been started or discarded.
 */
struct al_base_plan {
    /* Namespaces to create (CLONE_NEW* flags); CLONE_NEWNET is dropped when one is lent. */
    uint64_t clone_flags;
    /*
     * Whether the child is cloned from a template (al_template_build): its mount namespace is a
     * copy of one whose root already is a sandbox root, read-only, with no host tree in it. The
     * child then neither stages nor pivots; `ops` are only what each child needs its own of (a
     * new /proc, its /tmp), and its run's binds arrive as trees the parent cloned (AL_OP_BIND_FD).
     */
    int32_t from_template;
    /* The host uid and gid the sandbox user maps to: the parent resolves a run's host paths
     * (AL_OP_BIND_FD sources) with them as its filesystem identity, so that it reaches no more of
     * the host than a child resolving them itself would. */
    uint32_t host_uid;
    uint32_t host_gid;
    /* The uid/gid the program runs as, inside the user namespace. */
    uint32_t inner_uid;
    uint32_t inner_gid;
    /* Whether setgroups(0, NULL) is allowed (the parent could map gids; false when unprivileged). */
    int32_t drop_groups;
    /* Where the new root is staged before pivot_root (an existing host directory, e.g. "/tmp"). */
    const char *staging_dir;
    /* The name (inside the staging tmpfs) where the host root is parked during setup. */
    const char *old_root_name;
    /* Options of the root tmpfs ("mode=0755,size=…"). */
    const char *root_tmpfs_options;
    const struct al_mount_op *ops;
    size_t op_count;
    /*
     * Whether the base phase keeps the host only as a detached clone of its mount tree (then
     * detaches the parked host root at once, and runs bind from the clone: AL_OP_BIND_TREE), or
     * keeps the host root parked until the run's binds are done (AL_OP_BIND from it). The first
     * takes the host's detachment, which waits for an RCU grace period, off the run's path; it
     * needs a kernel that can clone from a detached tree (al_probe_detached_clone).
     */
    int32_t detached_host_tree;
    /* Highest capability number on this kernel (/proc/sys/kernel/cap_last_cap): the bounding set
     * is emptied in this phase (the effective set, needed for the run's mounts, stays). */
    int32_t cap_last_cap;
    /* Landlock: ABI to use (0 = do not apply), handled accesses, scopes, and the base's rules; the
     * ruleset is built here and completed with the run's rules. */
    int32_t landlock_abi;
    uint64_t landlock_handled_fs;
    uint64_t landlock_handled_net;
    uint64_t landlock_scoped;
    const struct al_landlock_rule *landlock_rules;
    size_t landlock_rule_count;
};

/* One run: its own mounts, then every restriction, then the program. Owned by the caller until
 * al_start returns. */
struct al_run_plan {
    const struct al_mount_op *ops;
    size_t op_count;

    const char *hostname;
    const char *workdir;
    const struct al_rlimit *rlimits;
    size_t rlimit_count;

    /* Landlock rules for the run's own paths, added to the base's ruleset before it is applied. */
    const struct al_landlock_rule *landlock_rules;
    size_t landlock_rule_count;

    /* Host paths the parent clones (open_tree, recursive) and sends with the run, for its
     * AL_OP_BIND_FD steps; at most AL_MAX_RUN_TREES. */
    const char *const *bind_sources;
    size_t bind_source_count;

    /*
     * Corridors: TCP ports on which the child, after its mounts and before it drops its
     * capabilities, listens on a loopback address (127.0.0.0/8) of its own network namespace (bringing `lo` up first),
     * handing each listening socket to the parent (al_spawn_result.listener_fds) and keeping none.
     * With Landlock's network access handled, connect is allowed to these ports only. Needs the
     * child's own network namespace (one it holds capabilities over): never a lent one. At most
     * AL_MAX_LOOPBACK_PORTS.
     */
    const uint16_t *loopback_ports;
    /* The IPv4 address (host order, in 127.0.0.0/8) each listener binds, parallel to the ports. */
    const uint32_t *loopback_addresses;
    size_t loopback_port_count;

    /* Seccomp: the program, and whether to ask for a user-notification listener. */
    struct al_bpf_program seccomp;
    int32_t seccomp_listener;

    /* 0: the program gets a session of its own, with no controlling terminal (the caller's
     * Ctrl-C, hangups and job control never reach it); 1: it stays in the caller's session, for a
     * run that is given /dev/tty. */
    int32_t keep_terminal;

    /* Candidate absolute paths for the program, tried in order (PATH search done by the parent). */
    const char *const *exec_paths;
    size_t exec_path_count;
    char *const *argv;
    char *const *envp;
};

/* The stage at which the child failed. */
enum al_stage {
    AL_STAGE_NONE = 0,
    AL_STAGE_SYNC,
    AL_STAGE_SETRESGID,
    AL_STAGE_SETRESUID,
    AL_STAGE_SETGROUPS,
    AL_STAGE_MOUNT_PRIVATE,
    AL_STAGE_ROOT_TMPFS,
    AL_STAGE_MKDIR_OLDROOT,
    AL_STAGE_PIVOT_ROOT,
    AL_STAGE_CHDIR_ROOT,
    AL_STAGE_OP,
    AL_STAGE_OP_SETATTR,
    AL_STAGE_UMOUNT_OLDROOT,
    AL_STAGE_RMDIR_OLDROOT,
    AL_STAGE_ROOT_READONLY,
    AL_STAGE_HOSTNAME,
    AL_STAGE_CHDIR_WORKDIR,
    AL_STAGE_RLIMIT,
    AL_STAGE_STDIO,
    AL_STAGE_CLOSE_FDS,
    AL_STAGE_CAP_BOUNDING,
    AL_STAGE_CAP_AMBIENT,
    AL_STAGE_CAPSET,
    AL_STAGE_NO_NEW_PRIVS,
    AL_STAGE_LANDLOCK_CREATE,
    AL_STAGE_LANDLOCK_OPEN,
    AL_STAGE_LANDLOCK_RULE,
    AL_STAGE_LANDLOCK_RESTRICT,
    AL_STAGE_SECCOMP,
    AL_STAGE_SEND_LISTENER,
    AL_STAGE_SIGNALS,
    AL_STAGE_EXEC,
    AL_STAGE_RUN_OPS,
    AL_STAGE_RECEIVE_RUN,
    AL_STAGE_HOST_TREE,
    AL_STAGE_BIND_SOURCE, /* the parent's open_tree of a run's host path (index: the source) */
    AL_STAGE_TEMPLATE,    /* a template's parent-side steps (index: enum al_template_step) */
    AL_STAGE_SETSID,      /* the child's own session, away from the caller's terminal */
    AL_STAGE_LOOPBACK,    /* a corridor listener (index: the port; -1 bringing lo up) */
    AL_STAGE_LANDLOCK_PORT, /* a Landlock connect rule for a corridor port (index: the port) */
};

/* Names an enumerator in Swift; closed enums import as exhaustive Swift enums. */
#define AL_SWIFT_NAME(name) __attribute__((swift_name(#name)))
#define AL_CLOSED_ENUM __attribute__((enum_extensibility(closed)))

/* A parent-side step of a spawn, the failure's index when its stage is AL_STAGE_NONE. */
enum AL_CLOSED_ENUM al_parent_step {
    AL_PARENT_CLONE AL_SWIFT_NAME(clone) = 0,
    AL_PARENT_UID_MAP AL_SWIFT_NAME(uidMap) = 1,
    AL_PARENT_SETGROUPS AL_SWIFT_NAME(setgroups) = 2,
    AL_PARENT_GID_MAP AL_SWIFT_NAME(gidMap) = 3,
    AL_PARENT_CGROUP AL_SWIFT_NAME(cgroup) = 4,
    AL_PARENT_RELEASE AL_SWIFT_NAME(release) = 5,
    AL_PARENT_STATUS_READ AL_SWIFT_NAME(statusRead) = 6,
    AL_PARENT_SETNS_NETWORK AL_SWIFT_NAME(setnsNetwork) = 7,
    AL_PARENT_SETNS_TEMPLATE AL_SWIFT_NAME(setnsTemplate) = 8,
    AL_PARENT_UNSHARE_FS AL_SWIFT_NAME(unshareFS) = 9,
    AL_PARENT_TEMPLATE_THREAD AL_SWIFT_NAME(templateThread) = 10,
};
/* How many parent steps there are: an index at or above it names none (Swift checks before it
 * switches, since an imported C enum takes any raw value). */
static const uint32_t al_parent_step_count = 11;

/* What the child reports when a stage fails. */
struct al_child_failure {
    int32_t stage; /* enum al_stage */
    int32_t index; /* the op, rlimit or rule index for indexed stages; enum al_parent_step for
                    * AL_STAGE_NONE, enum al_template_step for AL_STAGE_TEMPLATE; else -1 */
    int32_t err;   /* errno */
};

/* What the parent learns from a successful start. */
struct al_spawn_result {
    pid_t pid;
    int32_t pidfd;
    /* The seccomp user-notification listener received from the child, or -1. */
    int32_t notify_fd;
    /* The detached clone of the host's mount tree the child worked from, or -1. Closing the last
     * reference tears it down (an RCU grace period): the caller does so off the run's path. */
    int32_t host_tree_fd;
    /* The run's loopback listeners, in the order of al_run_plan.loopback_ports (the caller's). */
    int32_t listener_fds[AL_MAX_LOOPBACK_PORTS];
    int32_t listener_count;
};

/* Parent-side steps of the clone: identity maps and the network namespace to inherit. */
struct al_parent_steps {
    /* "inner outer 1\n" map lines, written to /proc/PID/uid_map and gid_map. */
    const char *uid_map;
    const char *gid_map;
    /* Write "deny" to /proc/PID/setgroups before gid_map (required when unprivileged). */
    int32_t deny_setgroups;
    /*
     * A network namespace for the child to inherit instead of creating one (-1: the plan's
     * clone_flags decide). The calling thread enters it just for the clone and then returns to
     * `restore_netns_fd`; both stay owned by the caller.
     */
    int32_t join_netns_fd;
    int32_t restore_netns_fd;
    /* A template's mount namespace (al_template_build) to clone the child from, or -1. The clone
     * then happens on Airlock's template thread, which enters it (see al_template_build). */
    int32_t template_fd;
};

/* A child cloned and set up from a base plan, waiting for its run (opaque). */
struct al_prespawned;

/*
 * Clones a child from `base` and lets it set up its base: identity, the staged root, the base
 * mounts. Returns 0 and the waiting child in `out` without waiting for that setup to finish; a
 * failure in it is reported by al_start. Returns -1 with `failure` (stage AL_STAGE_NONE, index
 * the enum al_parent_step that failed) when the clone itself failed. The child's parent-death signal is tied to the calling thread, which
 * must outlive it. Thread-safe; not async-signal-safe.
 */
int al_prespawn(const struct al_base_plan *base, const struct al_parent_steps *steps, struct al_prespawned **out,
                struct al_child_failure *failure);

/*
 * Starts a prespawned child on `run`: hands it its standard streams (the caller keeps its own
 * descriptors), joins it to the given cgroups, and waits until it executes the program. Consumes
 * `child` in every case. On success returns 0 and fills `result`; on failure returns -1 with
 * `failure` (the child's stage, or AL_STAGE_NONE with an enum al_parent_step: cgroup, release,
 * status read),
 * the child reaped.
 */
int al_start(struct al_prespawned *child, const struct al_run_plan *run, const int32_t stdio[3],
             const int32_t *cgroup_procs_fds, size_t cgroup_procs_count, struct al_spawn_result *result,
             struct al_child_failure *failure);

/* Kills, reaps and frees a prespawned child that will not be started. */
void al_discard(struct al_prespawned *child);

/* The pid of a prespawned child (for diagnostics). */
pid_t al_prespawned_pid(const struct al_prespawned *child);

/* A short name for a stage ("pivot_root", "mount"), for error messages. */
const char *al_stage_name(int32_t stage);

#ifdef __cplusplus
}
#endif
