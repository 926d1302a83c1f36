/*
 * The child side of a confined spawn, and the parent steps around it. See al_spawn.h.
 *
 * Between clone and execve the child shares the parent's memory (CLONE_VM, as posix_spawn does,
 * so no page tables are copied). It therefore uses only the raw syscalls of al_syscall.h, never
 * errno or any libc function, and touches only the plan the parent prepared.
 */
#include "al_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

#include "al_mount_fd.h"
#include "al_syscall.h"

/* Constants newer than Debian 12's kernel headers. */
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

struct al_mount_attr {
    uint64_t attr_set;
    uint64_t attr_clr;
    uint64_t propagation;
    uint64_t userns_fd;
};

struct al_landlock_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct al_landlock_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

/* LANDLOCK_RULE_NET_PORT's attribute (ABI 4). */
struct al_landlock_net_port_attr {
    uint64_t allowed_access;
    uint64_t port;
} __attribute__((packed));
#define AL_LANDLOCK_RULE_NET_PORT 2
#define AL_LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)

struct al_kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

/* One child from prespawn to start: shared with the child (CLONE_VM) until it executes. */
struct al_prespawned {
    const struct al_base_plan *base;
    /* Set by al_start before the run message; read by the child after receiving it. */
    const struct al_run_plan *run;
    /* The child's ends (numbers valid in its descriptor table, copied at clone). */
    int status_child;
    int sock_child;
    /* The parent's ends and bookkeeping. */
    int status_parent;
    int sock_parent;
    pid_t pid;
    int pidfd;
    void *stack;
    /* Written and read by the child only: the Landlock ruleset built in its base phase, and the
     * detached clone of the host's mount tree its run binds from, or -1. */
    int landlock_ruleset;
    int host_tree;
    /* Written by the child: the run's host trees as received (AL_OP_BIND_FD), each closed once attached. */
    int *run_trees;
    /* A template builder's plan (al_template_build), else NULL. */
    const struct al_template_plan *template_plan;
};

enum { AL_CHILD_STACK_SIZE = 256 * 1024 };

static size_t al_strlen(const char *s) {
    size_t n = 0;
    while (s[n] != '\0') n++;
    return n;
}

__attribute__((noreturn)) static void al_child_fail(const struct al_prespawned *ctx, int32_t stage, int32_t index,
                                                    long result) {
    struct al_child_failure failure = {.stage = stage, .index = index, .err = (int32_t)(result < 0 ? -result : EIO)};
    AL_SYS3(SYS_write, ctx->status_child, &failure, sizeof failure);
    for (;;) AL_SYS1(SYS_exit_group, 125);
}

#define AL_CHECK(ctx, expr, stage, index)                                     \
    do {                                                                      \
        long al_result_ = (expr);                                             \
        if (al_result_ < 0) al_child_fail((ctx), (stage), (index), al_result_); \
    } while (0)

static uint64_t al_mount_attr_bits(uint32_t flags) {
    uint64_t bits = 0;
    if (flags & AL_MNT_RDONLY) bits |= MOUNT_ATTR_RDONLY;
    if (flags & AL_MNT_NOSUID) bits |= MOUNT_ATTR_NOSUID;
    if (flags & AL_MNT_NODEV) bits |= MOUNT_ATTR_NODEV;
    if (flags & AL_MNT_NOEXEC) bits |= MOUNT_ATTR_NOEXEC;
    return bits;
}

static void al_child_mount_op(const struct al_prespawned *ctx, const struct al_mount_op *op, int32_t stage,
                              int32_t index) {
    long r;
    switch (op->kind) {
    case AL_OP_MKDIR:
        r = AL_SYS3(SYS_mkdirat, AT_FDCWD, op->target, op->mode);
        if (r == -EEXIST) r = 0;
        AL_CHECK(ctx, r, stage, index);
        break;
    case AL_OP_TOUCH:
    case AL_OP_FILE: {
        long fd = AL_SYS4(SYS_openat, AT_FDCWD, op->target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, op->mode);
        AL_CHECK(ctx, fd, stage, index);
        size_t done = 0;
        while (op->kind == AL_OP_FILE && done < op->data_len) {
            long w = AL_SYS3(SYS_write, fd, op->data + done, op->data_len - done);
            if (w == -EINTR) continue;
            AL_CHECK(ctx, w, stage, index);
            done += (size_t)w;
        }
        AL_SYS1(SYS_close, fd);
        break;
    }
    case AL_OP_TMPFS: {
        unsigned long flags = MS_NOSUID | MS_NODEV;
        if (op->flags & AL_MNT_NOEXEC) flags |= MS_NOEXEC;
        AL_CHECK(ctx, AL_SYS5(SYS_mount, "tmpfs", op->target, "tmpfs", flags, op->data), stage, index);
        break;
    }
    case AL_OP_PROC:
        AL_CHECK(ctx, AL_SYS5(SYS_mount, "proc", op->target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0),
                 stage, index);
        break;
    case AL_OP_BIND:
    case AL_OP_BIND_TREE: {
        /* Resolved once to a descriptor, no symlink followed, and cloned from it (al_mount_fd.h):
         * from the parked host root by absolute path, or inside the detached host tree. */
        long sub = al_clone_tree_at(op->kind == AL_OP_BIND ? AT_FDCWD : ctx->host_tree, op->source);
        AL_CHECK(ctx, sub, stage, index);
        long r = AL_SYS5(SYS_move_mount, sub, "", AT_FDCWD, op->target, MOVE_MOUNT_F_EMPTY_PATH);
        AL_SYS1(SYS_close, sub);
        AL_CHECK(ctx, r, stage, index);
        struct al_mount_attr attr = {.attr_set = al_mount_attr_bits(op->flags)};
        if (attr.attr_set != 0) {
            AL_CHECK(ctx, AL_SYS5(SYS_mount_setattr, AT_FDCWD, op->target, AT_RECURSIVE, &attr, sizeof attr),
                     stage == AL_STAGE_OP ? AL_STAGE_OP_SETATTR : stage, index);
        }
        break;
    }
    case AL_OP_BIND_FD: {
        /* A tree the parent cloned from the host: attach it, then make it private (a tree cloned
         * from a shared mount keeps its peer group) with the step's flags, recursively. */
        if (op->fd_index < 0 || (size_t)op->fd_index >= ctx->run->bind_source_count)
            al_child_fail(ctx, stage, index, -EBADF);
        int tree = ctx->run_trees[op->fd_index];
        long r = AL_SYS5(SYS_move_mount, tree, "", AT_FDCWD, op->target, MOVE_MOUNT_F_EMPTY_PATH);
        AL_SYS1(SYS_close, tree);
        AL_CHECK(ctx, r, stage, index);
        struct al_mount_attr attr = {.attr_set = al_mount_attr_bits(op->flags), .propagation = MS_PRIVATE};
        AL_CHECK(ctx, AL_SYS5(SYS_mount_setattr, AT_FDCWD, op->target, AT_RECURSIVE, &attr, sizeof attr),
                 stage == AL_STAGE_OP ? AL_STAGE_OP_SETATTR : stage, index);
        break;
    }
    case AL_OP_SYMLINK:
        AL_CHECK(ctx, AL_SYS3(SYS_symlinkat, op->source, AT_FDCWD, op->target), stage, index);
        break;
    default:
        al_child_fail(ctx, stage, index, -EINVAL);
    }
}

/* Adds path-beneath rules to a ruleset; `stage_index_base` numbers them across base and run. */
static void al_child_landlock_rules(const struct al_prespawned *ctx, long ruleset, const struct al_landlock_rule *rules,
                                    size_t count, int32_t stage_index_base) {
    for (size_t i = 0; i < count; i++) {
        long fd = AL_SYS4(SYS_openat, AT_FDCWD, rules[i].path, O_PATH | O_CLOEXEC, 0);
        AL_CHECK(ctx, fd, AL_STAGE_LANDLOCK_OPEN, stage_index_base + (int32_t)i);
        struct al_landlock_path_beneath_attr rule = {
            .allowed_access = rules[i].access,
            .parent_fd = (int32_t)fd,
        };
        AL_CHECK(ctx, AL_SYS4(SYS_landlock_add_rule, ruleset, 1 /* LANDLOCK_RULE_PATH_BENEATH */, &rule, 0),
                 AL_STAGE_LANDLOCK_RULE, stage_index_base + (int32_t)i);
        AL_SYS1(SYS_close, fd);
    }
}

/* Base phase: creates the ruleset and adds the base's rules (kept open for the run). */
static void al_child_landlock_base(struct al_prespawned *ctx) {
    const struct al_base_plan *base = ctx->base;
    ctx->landlock_ruleset = -1;
    if (base->landlock_abi <= 0) return;
    struct al_landlock_ruleset_attr attr = {
        .handled_access_fs = base->landlock_handled_fs,
        .handled_access_net = base->landlock_handled_net,
        .scoped = base->landlock_scoped,
    };
    /* The attribute struct grew with the ABI: pass the size this kernel knows. */
    size_t size = base->landlock_abi >= 6 ? 24 : base->landlock_abi >= 4 ? 16 : 8;
    long ruleset = AL_SYS3(SYS_landlock_create_ruleset, &attr, size, 0);
    AL_CHECK(ctx, ruleset, AL_STAGE_LANDLOCK_CREATE, -1);
    al_child_landlock_rules(ctx, ruleset, base->landlock_rules, base->landlock_rule_count, 0);
    ctx->landlock_ruleset = (int)ruleset;
}

/* Run phase: adds the run's rules and restricts the child for good. */
static void al_child_landlock_run(const struct al_prespawned *ctx) {
    if (ctx->landlock_ruleset < 0) return;
    al_child_landlock_rules(ctx, ctx->landlock_ruleset, ctx->run->landlock_rules, ctx->run->landlock_rule_count,
                            (int32_t)ctx->base->landlock_rule_count);
    /* Corridor ports: the only TCP connects Landlock lets through (when it handles connect). */
    if (ctx->base->landlock_handled_net & AL_LANDLOCK_ACCESS_NET_CONNECT_TCP) {
        for (size_t i = 0; i < ctx->run->loopback_port_count; i++) {
            struct al_landlock_net_port_attr rule = {.allowed_access = AL_LANDLOCK_ACCESS_NET_CONNECT_TCP,
                                                     .port = ctx->run->loopback_ports[i]};
            AL_CHECK(ctx, AL_SYS4(SYS_landlock_add_rule, ctx->landlock_ruleset, AL_LANDLOCK_RULE_NET_PORT, &rule, 0),
                     AL_STAGE_LANDLOCK_PORT, (int32_t)ctx->run->loopback_ports[i]);
        }
    }
    AL_CHECK(ctx, AL_SYS2(SYS_landlock_restrict_self, ctx->landlock_ruleset, 0), AL_STAGE_LANDLOCK_RESTRICT, -1);
    AL_SYS1(SYS_close, ctx->landlock_ruleset);
}

/* Sends one descriptor to the parent over the socketpair. */
static long al_child_send_fd(const struct al_prespawned *ctx, int fd) {
    char byte = 'F';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    for (size_t i = 0; i < sizeof control.buf; i++) control.buf[i] = 0;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    unsigned char *data = CMSG_DATA(cmsg);
    for (size_t i = 0; i < sizeof fd; i++) data[i] = ((unsigned char *)&fd)[i];
    return AL_SYS3(SYS_sendmsg, ctx->sock_child, &msg, MSG_NOSIGNAL);
}

static void al_child_seccomp(const struct al_prespawned *ctx) {
    const struct al_run_plan *plan = ctx->run;
    struct {
        unsigned short len;
        const void *filter;
    } prog = {plan->seccomp.length, plan->seccomp.filter};
    unsigned long flags = plan->seccomp_listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    long listener = AL_SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    AL_CHECK(ctx, listener, AL_STAGE_SECCOMP, -1);
    if (!plan->seccomp_listener) return;

    /* Hand the listener to the parent over the socketpair, then drop our copy. */
    AL_CHECK(ctx, al_child_send_fd(ctx, (int)listener), AL_STAGE_SEND_LISTENER, -1);
    AL_SYS1(SYS_close, listener);
}

/*
 * Closes every descriptor the child inherited except its two channels to the parent. Other
 * runs' pipes, cloned into this child's descriptor table, would otherwise stay open until execve
 * (delaying their EOF) and count against RLIMIT_NOFILE.
 */
static void al_child_close_inherited(const struct al_prespawned *ctx) {
    int low = ctx->status_child < ctx->sock_child ? ctx->status_child : ctx->sock_child;
    int high = ctx->status_child < ctx->sock_child ? ctx->sock_child : ctx->status_child;
    if (low > 3) AL_SYS3(SYS_close_range, 3, (unsigned int)low - 1, 0);
    if (high > low + 1) AL_SYS3(SYS_close_range, (unsigned int)low + 1, (unsigned int)high - 1, 0);
    AL_SYS3(SYS_close_range, (unsigned int)high + 1, ~0U, 0);
}

/* Receives one message from the parent; with `fds`, exactly `count` descriptors must come with it
 * (AL_RUN_MESSAGE: the run's three streams and its host trees, counted once the message is in,
 * since the parent sets `ctx->run` before sending it). */
enum { AL_RUN_MESSAGE = -1 };
static long al_child_receive(const struct al_prespawned *ctx, int *fds, int count) {
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE((3 + AL_MAX_RUN_TREES) * sizeof(int))];
        struct cmsghdr align;
    } control;
    for (size_t i = 0; i < sizeof control.buf; i++) control.buf[i] = 0;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    long r;
    do {
        r = AL_SYS3(SYS_recvmsg, ctx->sock_child, &msg, MSG_CMSG_CLOEXEC);
    } while (r == -EINTR);
    if (r < 0) return r;
    if (r == 0) return -EPIPE;
    /* (A count above the buffer's fails the length check below: the kernel truncates to it.) */
    if (count == AL_RUN_MESSAGE) count = 3 + (int)ctx->run->bind_source_count;
    if (count == 0) return 0;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS || cmsg->cmsg_len != CMSG_LEN(count * sizeof(int))) return -EBADMSG;
    unsigned char *data = CMSG_DATA(cmsg);
    for (int i = 0; i < count; i++) {
        int fd = 0;
        for (size_t b = 0; b < sizeof fd; b++) ((unsigned char *)&fd)[b] = data[i * sizeof(int) + b];
        fds[i] = fd;
    }
    return 0;
}

/* Makes the received streams the program's 0, 1 and 2; everything else closes at execve. */
static void al_child_stdio(const struct al_prespawned *ctx, int fds[3]) {
    /* Move any stream that landed on 0..2 out of the way first, so dup3 never clobbers one. */
    for (int i = 0; i < 3; i++) {
        if (fds[i] < 3) {
            long moved = AL_SYS3(SYS_fcntl, fds[i], F_DUPFD_CLOEXEC, 3);
            AL_CHECK(ctx, moved, AL_STAGE_STDIO, i);
            fds[i] = (int)moved;
        }
    }
    for (int32_t target = 0; target < 3; target++) {
        AL_CHECK(ctx, AL_SYS3(SYS_dup3, fds[target], target, 0), AL_STAGE_STDIO, target);
    }
    /* Our status pipe's EOF at execve is what tells the parent the program started. */
    AL_CHECK(ctx, AL_SYS3(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC), AL_STAGE_CLOSE_FDS, -1);
}

/* Empties the bounding set: no capability can ever be gained again, at execve or otherwise. The
 * effective set, which the run's mounts still need, is untouched. */
static void al_child_drop_bounding_set(const struct al_prespawned *ctx) {
    for (int cap = 0; cap <= ctx->base->cap_last_cap; cap++) {
        long r = AL_SYS2(SYS_prctl, PR_CAPBSET_DROP, cap);
        if (r < 0 && r != -EINVAL) al_child_fail(ctx, AL_STAGE_CAP_BOUNDING, cap, r);
    }
}

/* Empties the ambient, inheritable, permitted and effective sets. */
static void al_child_drop_capabilities(const struct al_prespawned *ctx) {
    long r = AL_SYS5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (r < 0 && r != -EINVAL) al_child_fail(ctx, AL_STAGE_CAP_AMBIENT, -1, r);
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    for (int i = 0; i < 2; i++) data[i].effective = data[i].permitted = data[i].inheritable = 0;
    AL_CHECK(ctx, AL_SYS2(SYS_capset, &header, data), AL_STAGE_CAPSET, -1);
}

/* The first steps of every child: default signal handlers, death with the cloning thread, and
 * none of the parent's descriptors but its two channels. */
static void al_child_detach_from_parent(const struct al_prespawned *ctx) {
    /* Signal handlers are the parent's (Swift's) until reset; the mask stays full until execve. */
    struct al_kernel_sigaction dfl = {.handler = SIG_DFL};
    for (int sig = 1; sig < 65; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        AL_SYS4(SYS_rt_sigaction, sig, &dfl, 0, 8);
    }
    /* If the thread that cloned us dies, so does the sandbox. */
    AL_SYS2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
    /* First of all, let go of every descriptor of the parent's we were cloned with: a file another
     * thread is writing stays unexecutable (ETXTBSY) while any copy of its descriptor is open. */
    al_child_close_inherited(ctx);
}

/* A private mount tree, a tmpfs root staged over an existing directory, pivoted into, the host
 * parked below it at `old_root_name`. */
static void al_child_stage_root(const struct al_prespawned *ctx, const char *staging_dir, const char *old_root_name,
                                const char *tmpfs_options) {
    AL_CHECK(ctx, AL_SYS5(SYS_mount, 0, "/", 0, MS_REC | MS_PRIVATE, 0), AL_STAGE_MOUNT_PRIVATE, -1);
    AL_CHECK(ctx, AL_SYS5(SYS_mount, "tmpfs", staging_dir, "tmpfs", MS_NOSUID | MS_NODEV, tmpfs_options),
             AL_STAGE_ROOT_TMPFS, -1);
    AL_CHECK(ctx, AL_SYS1(SYS_chdir, staging_dir), AL_STAGE_PIVOT_ROOT, -1);
    AL_CHECK(ctx, AL_SYS3(SYS_mkdirat, AT_FDCWD, old_root_name, 0700), AL_STAGE_MKDIR_OLDROOT, -1);
    AL_CHECK(ctx, AL_SYS2(SYS_pivot_root, ".", old_root_name), AL_STAGE_PIVOT_ROOT, -1);
    AL_CHECK(ctx, AL_SYS1(SYS_chdir, "/"), AL_STAGE_CHDIR_ROOT, -1);
}

/* Detaches the parked host root and removes its mount point. */
static void al_child_detach_host(const struct al_prespawned *ctx, const char *old_root_name) {
    AL_CHECK(ctx, AL_SYS2(SYS_umount2, old_root_name, MNT_DETACH), AL_STAGE_UMOUNT_OLDROOT, -1);
    AL_CHECK(ctx, AL_SYS3(SYS_unlinkat, AT_FDCWD, old_root_name, AT_REMOVEDIR), AL_STAGE_RMDIR_OLDROOT, -1);
}

/* Makes the root itself read-only (its submounts keep their own flags). */
static void al_child_root_readonly(const struct al_prespawned *ctx) {
    struct al_mount_attr root_attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    AL_CHECK(ctx, AL_SYS5(SYS_mount_setattr, AT_FDCWD, "/", 0, &root_attr, sizeof root_attr), AL_STAGE_ROOT_READONLY,
             -1);
}

/* Phase one: everything that does not depend on the run. */
static void al_child_base(struct al_prespawned *ctx) {
    const struct al_base_plan *base = ctx->base;
    al_child_detach_from_parent(ctx);

    /* Wait until the parent has written our uid/gid maps. */
    AL_CHECK(ctx, al_child_receive(ctx, NULL, 0), AL_STAGE_SYNC, -1);

    /*
     * Become the unprivileged inner user first. Inner root is not mapped, so the kernel keeps our
     * user-namespace capabilities across this change; they are dropped explicitly once the mounts
     * are done. Being mapped lets us create files in the new root's tmpfs.
     */
    if (base->drop_groups) AL_CHECK(ctx, AL_SYS2(SYS_setgroups, 0, 0), AL_STAGE_SETGROUPS, -1);
    AL_CHECK(ctx, AL_SYS3(SYS_setresgid, base->inner_gid, base->inner_gid, base->inner_gid), AL_STAGE_SETRESGID, -1);
    AL_CHECK(ctx, AL_SYS3(SYS_setresuid, base->inner_uid, base->inner_uid, base->inner_uid), AL_STAGE_SETRESUID, -1);

    /* From a template the root is already the sandbox's (read-only, no host tree in it). */
    if (!base->from_template) al_child_stage_root(ctx, base->staging_dir, base->old_root_name, base->root_tmpfs_options);

    for (size_t i = 0; i < base->op_count; i++) al_child_mount_op(ctx, &base->ops[i], AL_STAGE_OP, (int32_t)i);

    ctx->host_tree = -1;
    if (base->detached_host_tree && !base->from_template) {
        /* Keep the host only as a detached clone (the parent holds a reference, so its teardown is
         * never on this child's path), and detach the parked root now rather than in the run. */
        long tree = AL_SYS3(SYS_open_tree, AT_FDCWD, base->old_root_name, OPEN_TREE_CLONE | AT_RECURSIVE | O_CLOEXEC);
        AL_CHECK(ctx, tree, AL_STAGE_HOST_TREE, -1);
        AL_CHECK(ctx, al_child_send_fd(ctx, (int)tree), AL_STAGE_HOST_TREE, -1);
        ctx->host_tree = (int)tree;
        al_child_detach_host(ctx, base->old_root_name);
    }
    al_child_drop_bounding_set(ctx);
    al_child_landlock_base(ctx);
}

/*
 * Corridors: brings up the loopback of the child's own network namespace and listens on
 * 127.0.0.1:PORT for each of the run's ports, handing each listening socket to the parent (whose
 * forwarder accepts on it: a socket keeps the namespace it was made in) and closing its own copy,
 * so the program can connect to these ports and never accept on them.
 */
static void al_child_loopback(const struct al_prespawned *ctx) {
    const struct al_run_plan *run = ctx->run;
    if (run->loopback_port_count == 0) return;
    long control = AL_SYS3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    AL_CHECK(ctx, control, AL_STAGE_LOOPBACK, -1);
    struct ifreq ifr;
    for (size_t i = 0; i < sizeof ifr; i++) ((char *)&ifr)[i] = 0;
    ifr.ifr_name[0] = 'l';
    ifr.ifr_name[1] = 'o';
    AL_CHECK(ctx, AL_SYS3(SYS_ioctl, control, SIOCGIFFLAGS, &ifr), AL_STAGE_LOOPBACK, -1);
    ifr.ifr_flags |= IFF_UP;
    AL_CHECK(ctx, AL_SYS3(SYS_ioctl, control, SIOCSIFFLAGS, &ifr), AL_STAGE_LOOPBACK, -1);
    AL_SYS1(SYS_close, control);
    for (size_t i = 0; i < run->loopback_port_count; i++) {
        uint16_t port = run->loopback_ports[i];
        long fd = AL_SYS3(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        AL_CHECK(ctx, fd, AL_STAGE_LOOPBACK, (int32_t)port);
        struct sockaddr_in address;
        for (size_t b = 0; b < sizeof address; b++) ((char *)&address)[b] = 0;
        address.sin_family = AF_INET;
        /* Network byte order by hand (no libc here): port and address big-endian. */
        address.sin_port = (uint16_t)((port >> 8) | (port << 8));
        uint32_t host_order = run->loopback_addresses[i];
        unsigned char *ip = (unsigned char *)&address.sin_addr.s_addr;
        ip[0] = (unsigned char)(host_order >> 24);
        ip[1] = (unsigned char)(host_order >> 16);
        ip[2] = (unsigned char)(host_order >> 8);
        ip[3] = (unsigned char)host_order;
        AL_CHECK(ctx, AL_SYS3(SYS_bind, fd, &address, sizeof address), AL_STAGE_LOOPBACK, (int32_t)port);
        AL_CHECK(ctx, AL_SYS2(SYS_listen, fd, 128), AL_STAGE_LOOPBACK, (int32_t)port);
        AL_CHECK(ctx, al_child_send_fd(ctx, (int)fd), AL_STAGE_LOOPBACK, (int32_t)port);
        AL_SYS1(SYS_close, fd);
    }
}

/* Phase two: the run's mounts, every restriction, and the program. Does not return. */
__attribute__((noreturn)) static void al_child_run(const struct al_prespawned *ctx, int stdio[3]) {
    const struct al_base_plan *base = ctx->base;
    const struct al_run_plan *run = ctx->run;

    /* A session (and process group) of its own, with no controlling terminal: the caller's
     * Ctrl-C, a hangup or job control never reach a confined program; Airlock alone ends it,
     * through its pidfd. */
    if (!run->keep_terminal) AL_CHECK(ctx, AL_SYS0(SYS_setsid), AL_STAGE_SETSID, -1);

    for (size_t i = 0; i < run->op_count; i++) al_child_mount_op(ctx, &run->ops[i], AL_STAGE_RUN_OPS, (int32_t)i);

    if (ctx->host_tree >= 0) AL_SYS1(SYS_close, ctx->host_tree);
    /* A template's root is read-only already, with no host in it. */
    if (!base->from_template) {
        if (ctx->host_tree < 0) al_child_detach_host(ctx, base->old_root_name);
        al_child_root_readonly(ctx);
    }

    AL_CHECK(ctx, AL_SYS2(SYS_sethostname, run->hostname, al_strlen(run->hostname)), AL_STAGE_HOSTNAME, -1);
    AL_CHECK(ctx, AL_SYS1(SYS_chdir, run->workdir), AL_STAGE_CHDIR_WORKDIR, -1);
    al_child_loopback(ctx);

    for (size_t i = 0; i < run->rlimit_count; i++) {
        struct {
            uint64_t cur, max;
        } limit = {run->rlimits[i].soft, run->rlimits[i].hard};
        AL_CHECK(ctx, AL_SYS4(SYS_prlimit64, 0, run->rlimits[i].resource, &limit, 0), AL_STAGE_RLIMIT, (int32_t)i);
    }

    al_child_stdio(ctx, stdio);
    al_child_drop_capabilities(ctx);
    AL_CHECK(ctx, AL_SYS5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), AL_STAGE_NO_NEW_PRIVS, -1);
    al_child_landlock_run(ctx);
    al_child_seccomp(ctx);

    uint64_t empty = 0;
    AL_CHECK(ctx, AL_SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &empty, 0, 8), AL_STAGE_SIGNALS, -1);

    /* PATH search was done by the parent: try each candidate, report the most telling error. */
    long best = -ENOENT;
    int32_t best_index = 0;
    for (size_t i = 0; i < run->exec_path_count; i++) {
        long r = AL_SYS3(SYS_execve, run->exec_paths[i], run->argv, run->envp);
        if (r != -ENOENT && r != -ENOTDIR && best == -ENOENT) {
            best = r;
            best_index = (int32_t)i;
        }
    }
    al_child_fail(ctx, AL_STAGE_EXEC, best_index, best);
}

static int al_child_main(void *arg) {
    struct al_prespawned *ctx = arg;
    al_child_base(ctx);
    /* Wait for the run: it arrives with the program's three standard streams, then its host trees. */
    int fds[3 + AL_MAX_RUN_TREES];
    for (int i = 0; i < 3 + AL_MAX_RUN_TREES; i++) fds[i] = -1;
    AL_CHECK(ctx, al_child_receive(ctx, fds, AL_RUN_MESSAGE), AL_STAGE_RECEIVE_RUN, -1);
    ctx->run_trees = fds + 3;
    al_child_run(ctx, fds);
}

/* A template builder: stages and pivots into a new root, applies the template's plan, detaches
 * the host, reports, and lives until the parent has opened its mount namespace. */
static int al_builder_main(void *arg) {
    struct al_prespawned *ctx = arg;
    const struct al_template_plan *plan = ctx->template_plan;
    al_child_detach_from_parent(ctx);
    al_child_stage_root(ctx, plan->staging_dir, plan->old_root_name, plan->root_tmpfs_options);
    for (size_t i = 0; i < plan->op_count; i++) al_child_mount_op(ctx, &plan->ops[i], AL_STAGE_OP, (int32_t)i);
    al_child_detach_host(ctx, plan->old_root_name);
    al_child_root_readonly(ctx);
    struct al_child_failure done = {.stage = AL_STAGE_NONE, .index = -1, .err = 0};
    AL_SYS3(SYS_write, ctx->status_child, &done, sizeof done);
    char byte;
    while (AL_SYS3(SYS_read, ctx->sock_child, &byte, 1) == -EINTR) {
    }
    for (;;) AL_SYS1(SYS_exit_group, 0);
}

/* --- parent side ------------------------------------------------------------------------ */

static int al_write_file(const char *path, const char *data, size_t length) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n;
    do {
        n = write(fd, data, length);
    } while (n < 0 && errno == EINTR);
    int err = n < 0 ? -errno : ((size_t)n == length ? 0 : -EIO);
    close(fd);
    return err;
}

static int al_receive_fd_flags(int sock, int flags) {
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    ssize_t n;
    do {
        n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return -1;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
    return fd;
}

/* The next descriptor the child sent, if one is already there; -1 otherwise. */
static int al_receive_fd(int sock) { return al_receive_fd_flags(sock, MSG_DONTWAIT); }

/* The next descriptor the child sends, waiting for it; -1 if the child is gone. */
static int al_receive_fd_blocking(int sock) { return al_receive_fd_flags(sock, 0); }

static void al_kill_and_reap(pid_t pid, int pidfd) {
    if (pidfd >= 0) {
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    } else {
        kill(pid, SIGKILL);
    }
    siginfo_t info;
    while (waitid(P_PID, (id_t)pid, &info, WEXITED | __WALL) < 0 && errno == EINTR) {
    }
}

/* Sends one message to the child, with descriptors when `count` > 0. Returns 0 or an errno. */
static int al_send(int sock, const int32_t *fds, int count) {
    char byte = 'g';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE((3 + AL_MAX_RUN_TREES) * sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (count > 0) {
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(count * sizeof(int));
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(count * sizeof(int));
        memcpy(CMSG_DATA(cmsg), fds, count * sizeof(int));
    }
    ssize_t n;
    do {
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : (n < 0 ? errno : EIO);
}

/*
 * Child stacks are kept for reuse: unmapping memory of a process whose threads run on other CPUs
 * costs a TLB shootdown (an interrupt to each of them), on every start. A stack is reused only
 * once its child has executed or died.
 */
enum { AL_STACK_CACHE_SIZE = 16 };
static void *al_stack_cache[AL_STACK_CACHE_SIZE];
static int al_stack_cache_count;
static pthread_mutex_t al_stack_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static void *al_stack_get(void) {
    void *stack = NULL;
    pthread_mutex_lock(&al_stack_cache_lock);
    if (al_stack_cache_count > 0) stack = al_stack_cache[--al_stack_cache_count];
    pthread_mutex_unlock(&al_stack_cache_lock);
    if (stack != NULL) return stack;
    return mmap(NULL, AL_CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
}

static void al_stack_put(void *stack) {
    pthread_mutex_lock(&al_stack_cache_lock);
    int kept = al_stack_cache_count < AL_STACK_CACHE_SIZE;
    if (kept) al_stack_cache[al_stack_cache_count++] = stack;
    pthread_mutex_unlock(&al_stack_cache_lock);
    if (!kept) munmap(stack, AL_CHILD_STACK_SIZE);
}

static void al_free_prespawned(struct al_prespawned *ctx) {
    if (ctx->stack != NULL && ctx->stack != MAP_FAILED) al_stack_put(ctx->stack);
    int fds[] = {ctx->status_parent, ctx->sock_parent, ctx->pidfd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (fds[i] >= 0) close(fds[i]);
    }
    free(ctx);
}

/* Frees a child that was never cloned (its ends are still ours to close). */
static void al_free_uncloned(struct al_prespawned *ctx) {
    if (ctx->status_child >= 0) close(ctx->status_child);
    if (ctx->sock_child >= 0) close(ctx->sock_child);
    al_free_prespawned(ctx);
}

/* A child's bookkeeping, its status pipe, its socketpair and its stack; NULL with `failure` set. */
static struct al_prespawned *al_new_child(struct al_child_failure *failure) {
    struct al_prespawned *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        failure->err = ENOMEM;
        failure->index = AL_PARENT_CLONE;
        return NULL;
    }
    ctx->pid = -1;
    ctx->pidfd = -1;
    ctx->status_parent = ctx->status_child = ctx->sock_parent = ctx->sock_child = -1;
    ctx->stack = MAP_FAILED;
    int status_pipe[2], sock[2];
    if (pipe2(status_pipe, O_CLOEXEC) < 0) goto fail;
    ctx->status_parent = status_pipe[0];
    ctx->status_child = status_pipe[1];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0) goto fail;
    ctx->sock_parent = sock[0];
    ctx->sock_child = sock[1];
    ctx->stack = al_stack_get();
    if (ctx->stack == MAP_FAILED) goto fail;
    return ctx;
fail:
    failure->err = errno;
    failure->index = AL_PARENT_CLONE;
    al_free_uncloned(ctx);
    return NULL;
}

/* al_prespawn on the calling thread: the child copies this thread's mount namespace. */
static int al_prespawn_here(const struct al_base_plan *base, const struct al_parent_steps *steps,
                            struct al_prespawned **out, struct al_child_failure *failure) {
    struct al_prespawned *ctx = al_new_child(failure);
    if (ctx == NULL) return -1;
    ctx->base = base;

    /* Borrow the network namespace for the child: it is inherited at clone. */
    if (steps->join_netns_fd >= 0 && setns(steps->join_netns_fd, CLONE_NEWNET) != 0) {
        failure->err = errno;
        failure->index = AL_PARENT_SETNS_NETWORK;
        goto fail;
    }
    /* No signal handler may run on the child's stack before it resets them. */
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    /* Exit signal 0: the child is invisible to waitpid(-1) reapers elsewhere in the process. */
    /* A lent network namespace replaces the child's own. */
    uint64_t namespaces = base->clone_flags;
    if (steps->join_netns_fd >= 0) namespaces &= ~(uint64_t)CLONE_NEWNET;
    ctx->pid = clone(al_child_main, (char *)ctx->stack + AL_CHILD_STACK_SIZE, CLONE_VM | CLONE_PIDFD | (int)namespaces,
                     ctx, &ctx->pidfd);
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (steps->join_netns_fd >= 0 && setns(steps->restore_netns_fd, CLONE_NEWNET) != 0) {
        /* This thread must not stay in the sandbox's network: nothing safe is left to do. */
        abort();
    }
    if (ctx->pid < 0) {
        failure->err = clone_errno;
        failure->index = AL_PARENT_CLONE;
        goto fail;
    }
    /* The child has its own copies of its ends; the numbers stay valid in its table. */
    close(ctx->status_child);
    close(ctx->sock_child);

    char path[64];
    int err;
    snprintf(path, sizeof path, "/proc/%d/uid_map", ctx->pid);
    if ((err = al_write_file(path, steps->uid_map, strlen(steps->uid_map))) < 0) {
        failure->err = -err;
        failure->index = AL_PARENT_UID_MAP;
        goto kill;
    }
    if (steps->deny_setgroups) {
        snprintf(path, sizeof path, "/proc/%d/setgroups", ctx->pid);
        if ((err = al_write_file(path, "deny", 4)) < 0) {
            failure->err = -err;
            failure->index = AL_PARENT_SETGROUPS;
            goto kill;
        }
    }
    snprintf(path, sizeof path, "/proc/%d/gid_map", ctx->pid);
    if ((err = al_write_file(path, steps->gid_map, strlen(steps->gid_map))) < 0) {
        failure->err = -err;
        failure->index = AL_PARENT_GID_MAP;
        goto kill;
    }
    if ((err = al_send(ctx->sock_parent, NULL, 0)) != 0) {
        failure->err = err;
        failure->index = AL_PARENT_RELEASE;
        goto kill;
    }
    *out = ctx;
    return 0;

kill:
    al_kill_and_reap(ctx->pid, ctx->pidfd);
    al_free_prespawned(ctx);
    return -1;
fail:
    /* Nothing was cloned: the child's ends are still ours to close. */
    al_free_uncloned(ctx);
    return -1;
}

/*
 * The template thread: children of a template are cloned by this one thread, which enters the
 * template's mount namespace for each (a process's other threads stay in the host's). It lives as
 * long as the process, since every child it clones has its parent-death signal tied to it, and
 * runs nothing but al_prespawn_here. Calls are handed to it one at a time: a caller waits until
 * no call is pending, posts its own, and waits until it is done.
 */
struct al_template_call {
    const struct al_base_plan *base;
    const struct al_parent_steps *steps;
    struct al_prespawned **out;
    struct al_child_failure *failure;
    int result;
    int done;
};

static pthread_mutex_t al_template_lock = PTHREAD_MUTEX_INITIALIZER; /* guards the three below */
static pthread_cond_t al_template_cond = PTHREAD_COND_INITIALIZER;
static struct al_template_call *al_template_pending;
static int al_template_thread_state; /* 0 not started, 1 running, -errno could not start */

static void *al_template_thread_main(void *unused) {
    (void)unused;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
    /* Entering a mount namespace needs a root and working directory of this thread's own. */
    int fs_err = unshare(CLONE_FS) == 0 ? 0 : errno;
    for (;;) {
        pthread_mutex_lock(&al_template_lock);
        while (al_template_pending == NULL) pthread_cond_wait(&al_template_cond, &al_template_lock);
        struct al_template_call *call = al_template_pending;
        pthread_mutex_unlock(&al_template_lock);

        memset(call->failure, 0, sizeof *call->failure);
        call->result = -1;
        if (fs_err != 0) {
            call->failure->err = fs_err;
            call->failure->index = AL_PARENT_UNSHARE_FS;
        } else if (setns(call->steps->template_fd, CLONE_NEWNS) != 0) {
            call->failure->err = errno;
            call->failure->index = AL_PARENT_SETNS_TEMPLATE;
        } else {
            call->result = al_prespawn_here(call->base, call->steps, call->out, call->failure);
        }

        pthread_mutex_lock(&al_template_lock);
        call->done = 1;
        al_template_pending = NULL;
        pthread_cond_broadcast(&al_template_cond);
        pthread_mutex_unlock(&al_template_lock);
    }
    return NULL;
}

/* In a child forked without exec the thread is gone (fork copies only the calling thread) and the
 * locks may be held by threads that are gone too: start over. */
static void al_template_after_fork_child(void) {
    pthread_mutex_init(&al_template_lock, NULL);
    pthread_cond_init(&al_template_cond, NULL);
    al_template_pending = NULL;
    al_template_thread_state = 0;
}

/* Runs al_prespawn_here on the template thread (started on first use). */
static int al_prespawn_from_template(const struct al_base_plan *base, const struct al_parent_steps *steps,
                                     struct al_prespawned **out, struct al_child_failure *failure) {
    struct al_template_call call = {.base = base, .steps = steps, .out = out, .failure = failure};
    pthread_mutex_lock(&al_template_lock);
    if (al_template_thread_state == 0) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int err = pthread_create(&thread, &attr, al_template_thread_main, NULL);
        pthread_attr_destroy(&attr);
        al_template_thread_state = err == 0 ? 1 : -err;
        static int al_template_fork_handler;
        if (err == 0 && !al_template_fork_handler) {
            pthread_atfork(NULL, NULL, al_template_after_fork_child);
            al_template_fork_handler = 1;
        }
    }
    if (al_template_thread_state < 0) {
        failure->err = -al_template_thread_state;
        failure->index = AL_PARENT_TEMPLATE_THREAD;
        pthread_mutex_unlock(&al_template_lock);
        return -1;
    }
    while (al_template_pending != NULL) pthread_cond_wait(&al_template_cond, &al_template_lock);
    al_template_pending = &call;
    pthread_cond_broadcast(&al_template_cond);
    while (!call.done) pthread_cond_wait(&al_template_cond, &al_template_lock);
    pthread_mutex_unlock(&al_template_lock);
    return call.result;
}

int al_prespawn(const struct al_base_plan *base, const struct al_parent_steps *steps, struct al_prespawned **out,
                struct al_child_failure *failure) {
    memset(failure, 0, sizeof *failure);
    failure->index = -1;
    *out = NULL;
    if (steps->template_fd >= 0) return al_prespawn_from_template(base, steps, out, failure);
    return al_prespawn_here(base, steps, out, failure);
}

int al_template_build(const struct al_template_plan *plan, int32_t *template_fd, struct al_child_failure *failure) {
    memset(failure, 0, sizeof *failure);
    failure->index = -1;
    *template_fd = -1;
    struct al_prespawned *ctx = al_new_child(failure);
    if (ctx == NULL) {
        failure->stage = AL_STAGE_TEMPLATE;
        return -1;
    }
    ctx->template_plan = plan;
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    ctx->pid = clone(al_builder_main, (char *)ctx->stack + AL_CHILD_STACK_SIZE, CLONE_VM | CLONE_PIDFD | CLONE_NEWNS,
                     ctx, &ctx->pidfd);
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (ctx->pid < 0) {
        *failure = (struct al_child_failure){.stage = AL_STAGE_TEMPLATE, .index = AL_TEMPLATE_CLONE, .err = clone_errno};
        al_free_uncloned(ctx);
        return -1;
    }
    close(ctx->status_child);
    close(ctx->sock_child);

    /* The builder reports a failed stage, or success (AL_STAGE_NONE) and then waits. */
    struct al_child_failure reported;
    ssize_t n;
    do {
        n = read(ctx->status_parent, &reported, sizeof reported);
    } while (n < 0 && errno == EINTR);
    int rc = -1;
    if (n != (ssize_t)sizeof reported) {
        *failure = (struct al_child_failure){.stage = AL_STAGE_TEMPLATE, .index = AL_TEMPLATE_WAIT, .err = n < 0 ? errno : EIO};
    } else if (reported.stage != AL_STAGE_NONE) {
        *failure = reported;
    } else {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/mnt", ctx->pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            *failure = (struct al_child_failure){.stage = AL_STAGE_TEMPLATE, .index = AL_TEMPLATE_OPEN_NAMESPACE, .err = errno};
        } else {
            *template_fd = fd;
            rc = 0;
        }
    }
    /* The namespace lives on through its descriptor; the builder goes. */
    al_kill_and_reap(ctx->pid, ctx->pidfd);
    al_free_prespawned(ctx);
    return rc;
}

/*
 * Clones each of the run's host paths as a detached tree (open_tree), resolving them with the
 * sandbox's host identity as this thread's filesystem uid and gid: a uid other than 0 also clears
 * the thread's filesystem capabilities (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) meanwhile, so a
 * directory the sandbox user may not pass through stops the clone as it would stop a child
 * binding the path itself. setfsuid and setfsgid act on the calling thread only (raw syscalls; the
 * C library's wrappers would too). Returns 0, or -1 with `failure` and nothing left open.
 */
static int al_open_run_trees(const struct al_base_plan *base, const struct al_run_plan *run, int32_t *trees,
                             struct al_child_failure *failure) {
    if (run->bind_source_count == 0) return 0;
    long saved_gid = syscall(SYS_setfsgid, base->host_gid);
    long saved_uid = syscall(SYS_setfsuid, base->host_uid);
    int rc = 0;
    size_t opened = 0;
    for (; opened < run->bind_source_count; opened++) {
        long tree = al_clone_tree_at(AT_FDCWD, run->bind_sources[opened]);
        if (tree < 0) {
            *failure = (struct al_child_failure){.stage = AL_STAGE_BIND_SOURCE, .index = (int32_t)opened, .err = (int32_t)-tree};
            rc = -1;
            break;
        }
        trees[opened] = (int32_t)tree;
    }
    syscall(SYS_setfsuid, saved_uid);
    syscall(SYS_setfsgid, saved_gid);
    if (rc != 0) {
        for (size_t i = 0; i < opened; i++) close(trees[i]);
    }
    return rc;
}

int al_start(struct al_prespawned *ctx, const struct al_run_plan *run, const int32_t stdio[3],
             const int32_t *cgroup_procs_fds, size_t cgroup_procs_count, struct al_spawn_result *result,
             struct al_child_failure *failure) {
    memset(failure, 0, sizeof *failure);
    failure->index = -1;
    result->pid = -1;
    result->pidfd = -1;
    result->notify_fd = -1;
    result->host_tree_fd = -1;
    result->listener_count = 0;
    for (int i = 0; i < AL_MAX_LOOPBACK_PORTS; i++) result->listener_fds[i] = -1;
    ctx->run = run;
    if (run->loopback_port_count > AL_MAX_LOOPBACK_PORTS) {
        failure->stage = AL_STAGE_LOOPBACK;
        failure->index = AL_MAX_LOOPBACK_PORTS;
        failure->err = E2BIG;
        goto kill;
    }

    char pid_text[24];
    int pid_length = snprintf(pid_text, sizeof pid_text, "%d\n", ctx->pid);
    for (size_t i = 0; i < cgroup_procs_count; i++) {
        ssize_t n;
        do {
            n = pwrite(cgroup_procs_fds[i], pid_text, (size_t)pid_length, 0);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            failure->err = errno;
            failure->index = AL_PARENT_CGROUP;
            goto kill;
        }
    }
    /* The host tree comes first (sent at the end of the base phase; waits for it if need be). A
     * child that failed its base phase sends nothing and its report is in the status pipe. */
    if (ctx->base->detached_host_tree && !ctx->base->from_template)
        result->host_tree_fd = al_receive_fd_blocking(ctx->sock_parent);
    /* The run message: its streams, then its host trees, cloned here in the host's mount namespace
     * (a detached tree each, attached by the child; what is not attached goes with the message). */
    int32_t fds[3 + AL_MAX_RUN_TREES];
    size_t trees = run->bind_source_count;
    if (trees > AL_MAX_RUN_TREES) {
        failure->stage = AL_STAGE_BIND_SOURCE;
        failure->index = AL_MAX_RUN_TREES;
        failure->err = E2BIG;
        goto kill;
    }
    memcpy(fds, stdio, 3 * sizeof fds[0]);
    if (al_open_run_trees(ctx->base, run, fds + 3, failure) != 0) goto kill;
    int send_err = al_send(ctx->sock_parent, fds, 3 + (int)trees);
    for (size_t i = 0; i < trees; i++) close(fds[3 + i]);

    struct al_child_failure reported;
    ssize_t n;
    do {
        n = read(ctx->status_parent, &reported, sizeof reported);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof reported) {
        *failure = reported;
        goto kill;
    }
    if (send_err != 0) {
        failure->err = send_err;
        failure->index = AL_PARENT_RELEASE;
        goto kill;
    }
    if (n != 0) {
        failure->err = n < 0 ? errno : EIO;
        failure->index = AL_PARENT_STATUS_READ;
        goto kill;
    }
    /* EOF: the child reached execve (its memory is its own now) or died; the supervisor sees which.
     * Its listeners came first (sent before its seccomp listener), in the plan's order. */
    for (size_t i = 0; i < run->loopback_port_count; i++) {
        int fd = al_receive_fd(ctx->sock_parent);
        if (fd < 0) {
            failure->stage = AL_STAGE_LOOPBACK;
            failure->index = (int32_t)run->loopback_ports[i];
            failure->err = EIO;
            goto kill;
        }
        result->listener_fds[result->listener_count++] = fd;
    }
    if (run->seccomp_listener) result->notify_fd = al_receive_fd(ctx->sock_parent);
    result->pid = ctx->pid;
    result->pidfd = ctx->pidfd;
    ctx->pidfd = -1; /* now the caller's */
    al_free_prespawned(ctx);
    return 0;

kill:
    al_kill_and_reap(ctx->pid, ctx->pidfd);
    for (int32_t i = 0; i < result->listener_count; i++) close(result->listener_fds[i]);
    result->listener_count = 0;
    if (result->host_tree_fd >= 0) close(result->host_tree_fd);
    result->host_tree_fd = -1;
    al_free_prespawned(ctx);
    return -1;
}

void al_discard(struct al_prespawned *ctx) {
    al_kill_and_reap(ctx->pid, ctx->pidfd);
    al_free_prespawned(ctx);
}

pid_t al_prespawned_pid(const struct al_prespawned *ctx) { return ctx->pid; }

const char *al_stage_name(int32_t stage) {
    switch (stage) {
    case AL_STAGE_NONE: return "parent";
    case AL_STAGE_SYNC: return "sync";
    case AL_STAGE_SETRESGID: return "setresgid";
    case AL_STAGE_SETRESUID: return "setresuid";
    case AL_STAGE_SETGROUPS: return "setgroups";
    case AL_STAGE_MOUNT_PRIVATE: return "mount(make-rprivate /)";
    case AL_STAGE_ROOT_TMPFS: return "mount(tmpfs new root)";
    case AL_STAGE_MKDIR_OLDROOT: return "mkdir(old root)";
    case AL_STAGE_PIVOT_ROOT: return "pivot_root";
    case AL_STAGE_CHDIR_ROOT: return "chdir(/)";
    case AL_STAGE_OP: return "mount";
    case AL_STAGE_OP_SETATTR: return "mount_setattr";
    case AL_STAGE_UMOUNT_OLDROOT: return "umount2(old root)";
    case AL_STAGE_RMDIR_OLDROOT: return "rmdir(old root)";
    case AL_STAGE_ROOT_READONLY: return "mount_setattr(/ read-only)";
    case AL_STAGE_HOSTNAME: return "sethostname";
    case AL_STAGE_CHDIR_WORKDIR: return "chdir(workdir)";
    case AL_STAGE_RLIMIT: return "prlimit64";
    case AL_STAGE_STDIO: return "dup3(stdio)";
    case AL_STAGE_CLOSE_FDS: return "close_range";
    case AL_STAGE_CAP_BOUNDING: return "prctl(PR_CAPBSET_DROP)";
    case AL_STAGE_CAP_AMBIENT: return "prctl(PR_CAP_AMBIENT_CLEAR_ALL)";
    case AL_STAGE_CAPSET: return "capset";
    case AL_STAGE_NO_NEW_PRIVS: return "prctl(PR_SET_NO_NEW_PRIVS)";
    case AL_STAGE_LANDLOCK_CREATE: return "landlock_create_ruleset";
    case AL_STAGE_LANDLOCK_OPEN: return "open(landlock path)";
    case AL_STAGE_LANDLOCK_RULE: return "landlock_add_rule";
    case AL_STAGE_LANDLOCK_RESTRICT: return "landlock_restrict_self";
    case AL_STAGE_LOOPBACK: return "corridor listener (127.0.0.1)";
    case AL_STAGE_LANDLOCK_PORT: return "landlock_add_rule(net port)";
    case AL_STAGE_SECCOMP: return "seccomp(SET_MODE_FILTER)";
    case AL_STAGE_SEND_LISTENER: return "sendmsg(seccomp listener)";
    case AL_STAGE_SIGNALS: return "rt_sigprocmask";
    case AL_STAGE_EXEC: return "execve";
    case AL_STAGE_RUN_OPS: return "mount";
    case AL_STAGE_RECEIVE_RUN: return "recvmsg(run)";
    case AL_STAGE_HOST_TREE: return "open_tree(host, OPEN_TREE_CLONE)";
    case AL_STAGE_BIND_SOURCE: return "openat2+open_tree(RESOLVE_NO_SYMLINKS)";
    case AL_STAGE_TEMPLATE: return "template";
    case AL_STAGE_SETSID: return "setsid";
    default: return "unknown stage";
    }
}
