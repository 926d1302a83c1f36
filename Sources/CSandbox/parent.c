/*
 * The parent side of a confined spawn: a child's bookkeeping and stack, the clone with its
 * identity maps and lent network namespace, the run message (streams and host trees), the cgroup
 * join, the child's status and its end. See al_spawn.h.
 */
#include "spawn_internal.h"


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
int al_receive_fd_blocking(int sock) { return al_receive_fd_flags(sock, 0); }

void al_kill_and_reap(pid_t pid, int pidfd) {
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

void al_free_prespawned(struct al_prespawned *ctx) {
    if (ctx->stack != NULL && ctx->stack != MAP_FAILED) al_stack_put(ctx->stack);
    int fds[] = {ctx->status_parent, ctx->sock_parent, ctx->pidfd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (fds[i] >= 0) close(fds[i]);
    }
    free(ctx);
}

/* Frees a child that was never cloned (its ends are still ours to close). */
void al_free_uncloned(struct al_prespawned *ctx) {
    if (ctx->status_child >= 0) close(ctx->status_child);
    if (ctx->sock_child >= 0) close(ctx->sock_child);
    al_free_prespawned(ctx);
}

/* A child's bookkeeping, its status pipe, its socketpair and its stack; NULL with `failure` set. */
struct al_prespawned *al_new_child(struct al_child_failure *failure) {
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
int al_prespawn_here(const struct al_base_plan *base, const struct al_parent_steps *steps,
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

int al_prespawn(const struct al_base_plan *base, const struct al_parent_steps *steps, struct al_prespawned **out,
                struct al_child_failure *failure) {
    memset(failure, 0, sizeof *failure);
    failure->index = -1;
    *out = NULL;
    if (steps->template_fd >= 0) return al_prespawn_from_template(base, steps, out, failure);
    return al_prespawn_here(base, steps, out, failure);
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
