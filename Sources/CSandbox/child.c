/*
 * The child side of a confined spawn: everything after clone, in the child, and in a template
 * builder. See al_spawn.h.
 *
 * Between clone and execve the child shares the parent's memory (CLONE_VM, as posix_spawn does,
 * so no page tables are copied). It therefore uses only the raw syscalls of al_syscall.h, never
 * errno or any libc function, and touches only the plan the parent prepared.
 */
#include "spawn_internal.h"

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

int al_child_main(void *arg) {
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
int al_builder_main(void *arg) {
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
