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

#include "al_syscall.h"

/* Constants newer than Debian 12's kernel headers. */
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
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

struct al_kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

/* The child's view of one spawn: the plan plus the ends of the parent's pipes. */
struct al_child_context {
    const struct al_child_plan *plan;
    int sync_fd;
    int status_fd;
    int listener_sock;
};

enum { AL_CHILD_STACK_SIZE = 256 * 1024 };

static size_t al_strlen(const char *s) {
    size_t n = 0;
    while (s[n] != '\0') n++;
    return n;
}

__attribute__((noreturn)) static void al_child_fail(const struct al_child_context *ctx, int32_t stage, int32_t index,
                                                    long result) {
    struct al_child_failure failure = {.stage = stage, .index = index, .err = (int32_t)(result < 0 ? -result : EIO)};
    AL_SYS3(SYS_write, ctx->status_fd, &failure, sizeof failure);
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

static void al_child_mount_op(const struct al_child_context *ctx, const struct al_mount_op *op, int32_t index) {
    long r;
    switch (op->kind) {
    case AL_OP_MKDIR:
        r = AL_SYS3(SYS_mkdirat, AT_FDCWD, op->target, op->mode);
        if (r == -EEXIST) r = 0;
        AL_CHECK(ctx, r, AL_STAGE_OP, index);
        break;
    case AL_OP_TOUCH:
    case AL_OP_FILE: {
        long fd = AL_SYS4(SYS_openat, AT_FDCWD, op->target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, op->mode);
        AL_CHECK(ctx, fd, AL_STAGE_OP, index);
        size_t done = 0;
        while (op->kind == AL_OP_FILE && done < op->data_len) {
            long w = AL_SYS3(SYS_write, fd, op->data + done, op->data_len - done);
            if (w == -EINTR) continue;
            AL_CHECK(ctx, w, AL_STAGE_OP, index);
            done += (size_t)w;
        }
        AL_SYS1(SYS_close, fd);
        break;
    }
    case AL_OP_BIND: {
        AL_CHECK(ctx, AL_SYS5(SYS_mount, op->source, op->target, 0, MS_BIND | MS_REC, 0), AL_STAGE_OP, index);
        struct al_mount_attr attr = {.attr_set = al_mount_attr_bits(op->flags)};
        if (attr.attr_set != 0) {
            AL_CHECK(ctx, AL_SYS5(SYS_mount_setattr, AT_FDCWD, op->target, AT_RECURSIVE, &attr, sizeof attr),
                     AL_STAGE_OP_SETATTR, index);
        }
        break;
    }
    case AL_OP_TMPFS: {
        unsigned long flags = MS_NOSUID | MS_NODEV;
        if (op->flags & AL_MNT_NOEXEC) flags |= MS_NOEXEC;
        AL_CHECK(ctx, AL_SYS5(SYS_mount, "tmpfs", op->target, "tmpfs", flags, op->data), AL_STAGE_OP, index);
        break;
    }
    case AL_OP_PROC:
        AL_CHECK(ctx, AL_SYS5(SYS_mount, "proc", op->target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0),
                 AL_STAGE_OP, index);
        break;
    case AL_OP_SETATTR: {
        struct al_mount_attr attr = {.attr_set = al_mount_attr_bits(op->flags)};
        AL_CHECK(ctx, AL_SYS5(SYS_mount_setattr, AT_FDCWD, op->target, 0, &attr, sizeof attr), AL_STAGE_OP_SETATTR,
                 index);
        break;
    }
    case AL_OP_SYMLINK:
        AL_CHECK(ctx, AL_SYS3(SYS_symlinkat, op->source, AT_FDCWD, op->target), AL_STAGE_OP, index);
        break;
    default:
        al_child_fail(ctx, AL_STAGE_OP, index, -EINVAL);
    }
}

static void al_child_landlock(const struct al_child_context *ctx) {
    const struct al_child_plan *plan = ctx->plan;
    if (plan->landlock_abi <= 0) return;
    struct al_landlock_ruleset_attr attr = {
        .handled_access_fs = plan->landlock_handled_fs,
        .handled_access_net = plan->landlock_handled_net,
        .scoped = plan->landlock_scoped,
    };
    /* The attribute struct grew with the ABI: pass the size this kernel knows. */
    size_t size = plan->landlock_abi >= 6 ? 24 : plan->landlock_abi >= 4 ? 16 : 8;
    long ruleset = AL_SYS3(SYS_landlock_create_ruleset, &attr, size, 0);
    AL_CHECK(ctx, ruleset, AL_STAGE_LANDLOCK_CREATE, -1);
    for (size_t i = 0; i < plan->landlock_rule_count; i++) {
        long fd = AL_SYS4(SYS_openat, AT_FDCWD, plan->landlock_rules[i].path, O_PATH | O_CLOEXEC, 0);
        AL_CHECK(ctx, fd, AL_STAGE_LANDLOCK_OPEN, (int32_t)i);
        struct al_landlock_path_beneath_attr rule = {
            .allowed_access = plan->landlock_rules[i].access,
            .parent_fd = (int32_t)fd,
        };
        AL_CHECK(ctx, AL_SYS4(SYS_landlock_add_rule, ruleset, 1 /* LANDLOCK_RULE_PATH_BENEATH */, &rule, 0),
                 AL_STAGE_LANDLOCK_RULE, (int32_t)i);
        AL_SYS1(SYS_close, fd);
    }
    AL_CHECK(ctx, AL_SYS2(SYS_landlock_restrict_self, ruleset, 0), AL_STAGE_LANDLOCK_RESTRICT, -1);
    AL_SYS1(SYS_close, ruleset);
}

static void al_child_seccomp(const struct al_child_context *ctx) {
    const struct al_child_plan *plan = ctx->plan;
    struct {
        unsigned short len;
        const void *filter;
    } prog = {plan->seccomp.length, plan->seccomp.filter};
    unsigned long flags = plan->seccomp_listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    long listener = AL_SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    AL_CHECK(ctx, listener, AL_STAGE_SECCOMP, -1);
    if (!plan->seccomp_listener) return;

    /* Hand the listener to the parent over the socketpair, then drop our copy. */
    char byte = 'L';
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
    int fd = (int)listener;
    unsigned char *data = CMSG_DATA(cmsg);
    for (size_t i = 0; i < sizeof fd; i++) data[i] = ((unsigned char *)&fd)[i];
    AL_CHECK(ctx, AL_SYS3(SYS_sendmsg, ctx->listener_sock, &msg, MSG_NOSIGNAL), AL_STAGE_SEND_LISTENER, -1);
    AL_SYS1(SYS_close, listener);
}

/*
 * Closes every descriptor the child inherited except the ones it still needs: its standard
 * streams, the status pipe and the listener socket. Other runs' pipes, cloned into this child's
 * descriptor table, would otherwise stay open until execve (delaying their EOF) and count
 * against RLIMIT_NOFILE.
 */
static void al_child_close_inherited(const struct al_child_context *ctx) {
    const struct al_child_plan *plan = ctx->plan;
    int keep[5] = {plan->stdin_fd, plan->stdout_fd, plan->stderr_fd, ctx->status_fd, ctx->listener_sock};
    /* Sort the few descriptors to keep, then close the gaps between them. */
    for (int i = 1; i < 5; i++) {
        for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    }
    unsigned int next = 3;
    for (int i = 0; i < 5; i++) {
        if (keep[i] < 3 || (unsigned int)keep[i] < next) continue;
        if ((unsigned int)keep[i] > next) AL_SYS3(SYS_close_range, next, (unsigned int)keep[i] - 1, 0);
        next = (unsigned int)keep[i] + 1;
    }
    AL_SYS3(SYS_close_range, next, ~0U, 0);
}

static void al_child_stdio(const struct al_child_context *ctx) {
    const struct al_child_plan *plan = ctx->plan;
    int32_t fds[3] = {plan->stdin_fd, plan->stdout_fd, plan->stderr_fd};
    /* The parent guarantees these are all >= 3, so dup3 never clobbers one before it is used. */
    for (int32_t target = 0; target < 3; target++) {
        AL_CHECK(ctx, AL_SYS3(SYS_dup3, fds[target], target, 0), AL_STAGE_STDIO, target);
    }
    /* Everything else is closed at execve, including our status pipe (whose EOF means success). */
    AL_CHECK(ctx, AL_SYS3(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC), AL_STAGE_CLOSE_FDS, -1);
}

static void al_child_drop_capabilities(const struct al_child_context *ctx) {
    for (int cap = 0; cap <= ctx->plan->cap_last_cap; cap++) {
        long r = AL_SYS2(SYS_prctl, PR_CAPBSET_DROP, cap);
        if (r < 0 && r != -EINVAL) al_child_fail(ctx, AL_STAGE_CAP_BOUNDING, cap, r);
    }
    long r = AL_SYS5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (r < 0 && r != -EINVAL) al_child_fail(ctx, AL_STAGE_CAP_AMBIENT, -1, r);
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    for (int i = 0; i < 2; i++) data[i].effective = data[i].permitted = data[i].inheritable = 0;
    AL_CHECK(ctx, AL_SYS2(SYS_capset, &header, data), AL_STAGE_CAPSET, -1);
}

static int al_child_main(void *arg) {
    const struct al_child_context *ctx = arg;
    const struct al_child_plan *plan = ctx->plan;

    /* Signal handlers are the parent's (Swift's) until reset; the mask stays full until execve. */
    struct al_kernel_sigaction dfl = {.handler = SIG_DFL};
    for (int sig = 1; sig < 65; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        AL_SYS4(SYS_rt_sigaction, sig, &dfl, 0, 8);
    }
    /* If the supervising thread dies, so does the sandbox. */
    AL_SYS2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);

    /* Wait until the parent has written our uid/gid maps and joined us to our cgroups. */
    char go = 0;
    long r;
    do {
        r = AL_SYS3(SYS_read, ctx->sync_fd, &go, 1);
    } while (r == -EINTR);
    if (r != 1) al_child_fail(ctx, AL_STAGE_SYNC, -1, r < 0 ? r : -EPIPE);
    al_child_close_inherited(ctx);

    /*
     * Become the unprivileged inner user first. Inner root is not mapped, so the kernel keeps our
     * user-namespace capabilities across this change; they are dropped explicitly below once the
     * mounts are done. Being mapped lets us create files in the new root's tmpfs.
     */
    if (plan->drop_groups) AL_CHECK(ctx, AL_SYS2(SYS_setgroups, 0, 0), AL_STAGE_SETGROUPS, -1);
    AL_CHECK(ctx, AL_SYS3(SYS_setresgid, plan->inner_gid, plan->inner_gid, plan->inner_gid), AL_STAGE_SETRESGID, -1);
    AL_CHECK(ctx, AL_SYS3(SYS_setresuid, plan->inner_uid, plan->inner_uid, plan->inner_uid), AL_STAGE_SETRESUID, -1);

    /* A private mount tree, a tmpfs root staged over an existing directory, the host parked below. */
    AL_CHECK(ctx, AL_SYS5(SYS_mount, 0, "/", 0, MS_REC | MS_PRIVATE, 0), AL_STAGE_MOUNT_PRIVATE, -1);
    AL_CHECK(ctx, AL_SYS5(SYS_mount, "tmpfs", plan->staging_dir, "tmpfs", MS_NOSUID | MS_NODEV, plan->root_tmpfs_options),
             AL_STAGE_ROOT_TMPFS, -1);
    AL_CHECK(ctx, AL_SYS1(SYS_chdir, plan->staging_dir), AL_STAGE_PIVOT_ROOT, -1);
    AL_CHECK(ctx, AL_SYS3(SYS_mkdirat, AT_FDCWD, plan->old_root_name, 0700), AL_STAGE_MKDIR_OLDROOT, -1);
    AL_CHECK(ctx, AL_SYS2(SYS_pivot_root, ".", plan->old_root_name), AL_STAGE_PIVOT_ROOT, -1);
    AL_CHECK(ctx, AL_SYS1(SYS_chdir, "/"), AL_STAGE_CHDIR_ROOT, -1);

    for (size_t i = 0; i < plan->op_count; i++) al_child_mount_op(ctx, &plan->ops[i], (int32_t)i);

    /* Detach the host, then make the root itself read-only (its submounts keep their own flags). */
    AL_CHECK(ctx, AL_SYS2(SYS_umount2, plan->old_root_name, MNT_DETACH), AL_STAGE_UMOUNT_OLDROOT, -1);
    AL_CHECK(ctx, AL_SYS3(SYS_unlinkat, AT_FDCWD, plan->old_root_name, AT_REMOVEDIR), AL_STAGE_RMDIR_OLDROOT, -1);
    struct al_mount_attr root_attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    AL_CHECK(ctx, AL_SYS5(SYS_mount_setattr, AT_FDCWD, "/", 0, &root_attr, sizeof root_attr), AL_STAGE_ROOT_READONLY,
             -1);

    AL_CHECK(ctx, AL_SYS2(SYS_sethostname, plan->hostname, al_strlen(plan->hostname)), AL_STAGE_HOSTNAME, -1);
    AL_CHECK(ctx, AL_SYS1(SYS_chdir, plan->workdir), AL_STAGE_CHDIR_WORKDIR, -1);

    for (size_t i = 0; i < plan->rlimit_count; i++) {
        struct {
            uint64_t cur, max;
        } limit = {plan->rlimits[i].soft, plan->rlimits[i].hard};
        AL_CHECK(ctx, AL_SYS4(SYS_prlimit64, 0, plan->rlimits[i].resource, &limit, 0), AL_STAGE_RLIMIT, (int32_t)i);
    }

    al_child_stdio(ctx);
    al_child_drop_capabilities(ctx);
    AL_CHECK(ctx, AL_SYS5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), AL_STAGE_NO_NEW_PRIVS, -1);
    al_child_landlock(ctx);
    al_child_seccomp(ctx);

    uint64_t empty = 0;
    AL_CHECK(ctx, AL_SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &empty, 0, 8), AL_STAGE_SIGNALS, -1);

    /* PATH search was done by the parent: try each candidate, report the most telling error. */
    long best = -ENOENT;
    int32_t best_index = 0;
    for (size_t i = 0; i < plan->exec_path_count; i++) {
        r = AL_SYS3(SYS_execve, plan->exec_paths[i], plan->argv, plan->envp);
        if (r != -ENOENT && r != -ENOTDIR && best == -ENOENT) {
            best = r;
            best_index = (int32_t)i;
        }
    }
    al_child_fail(ctx, AL_STAGE_EXEC, best_index, best);
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

static int al_receive_fd(int sock) {
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
        n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return -1;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
    return fd;
}

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

int al_spawn(const struct al_child_plan *plan, const struct al_parent_steps *steps, struct al_spawn_result *result,
             struct al_child_failure *failure) {
    memset(failure, 0, sizeof *failure);
    failure->index = -1;
    result->pid = -1;
    result->pidfd = -1;
    result->notify_fd = -1;

    int sync_pipe[2] = {-1, -1}, status_pipe[2] = {-1, -1}, sock[2] = {-1, -1};
    int ret = -1;
    pid_t pid = -1;
    int pidfd = -1;
    void *stack = MAP_FAILED;

    if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(status_pipe, O_CLOEXEC) < 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0) {
        failure->err = errno;
        failure->index = 0;
        goto out;
    }
    stack = mmap(NULL, AL_CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        failure->err = errno;
        failure->index = 0;
        goto out;
    }

    struct al_child_context ctx = {
        .plan = plan, .sync_fd = sync_pipe[0], .status_fd = status_pipe[1], .listener_sock = sock[1]};

    /* Borrow the network namespace for the child: it is inherited at clone. */
    if (steps->join_netns_fd >= 0 && setns(steps->join_netns_fd, CLONE_NEWNET) != 0) {
        failure->err = errno;
        failure->index = 7;
        goto out;
    }
    /* No signal handler may run on the child's stack before it resets them. */
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    /* Exit signal 0: the child is invisible to waitpid(-1) reapers elsewhere in the process. */
    pid = clone(al_child_main, (char *)stack + AL_CHILD_STACK_SIZE, CLONE_VM | CLONE_PIDFD | (int)plan->clone_flags,
                &ctx, &pidfd);
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (steps->join_netns_fd >= 0 && setns(steps->restore_netns_fd, CLONE_NEWNET) != 0) {
        /* This thread must not stay in the sandbox's network: nothing safe is left to do. */
        abort();
    }
    if (pid < 0) {
        failure->err = clone_errno;
        failure->index = 0;
        goto out;
    }
    close(sync_pipe[0]);
    sync_pipe[0] = -1;
    close(status_pipe[1]);
    status_pipe[1] = -1;
    close(sock[1]);
    sock[1] = -1;

    char path[64];
    int err;
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    if ((err = al_write_file(path, steps->uid_map, strlen(steps->uid_map))) < 0) {
        failure->err = -err;
        failure->index = 1;
        goto kill;
    }
    if (steps->deny_setgroups) {
        snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
        if ((err = al_write_file(path, "deny", 4)) < 0) {
            failure->err = -err;
            failure->index = 2;
            goto kill;
        }
    }
    snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
    if ((err = al_write_file(path, steps->gid_map, strlen(steps->gid_map))) < 0) {
        failure->err = -err;
        failure->index = 3;
        goto kill;
    }
    char pid_text[24];
    int pid_length = snprintf(pid_text, sizeof pid_text, "%d\n", pid);
    for (size_t i = 0; i < steps->cgroup_procs_count; i++) {
        ssize_t n;
        do {
            n = pwrite(steps->cgroup_procs_fds[i], pid_text, (size_t)pid_length, 0);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            failure->err = errno;
            failure->index = 4;
            goto kill;
        }
    }
    ssize_t n;
    do {
        n = write(sync_pipe[1], "g", 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) {
        failure->err = n < 0 ? errno : EPIPE;
        failure->index = 5;
        goto kill;
    }

    struct al_child_failure reported;
    do {
        n = read(status_pipe[0], &reported, sizeof reported);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof reported) {
        *failure = reported;
        goto kill;
    }
    if (n != 0) {
        failure->err = n < 0 ? errno : EIO;
        failure->index = 6;
        goto kill;
    }
    /* EOF: the child reached execve (its memory is its own now) or died; the supervisor sees which. */
    if (plan->seccomp_listener) {
        result->notify_fd = al_receive_fd(sock[0]);
    }
    result->pid = pid;
    result->pidfd = pidfd;
    ret = 0;
    goto out;

kill:
    al_kill_and_reap(pid, pidfd);
    if (pidfd >= 0) close(pidfd);
out:
    if (stack != MAP_FAILED) munmap(stack, AL_CHILD_STACK_SIZE);
    int fds[] = {sync_pipe[0], sync_pipe[1], status_pipe[0], status_pipe[1], sock[0], sock[1]};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (fds[i] >= 0) close(fds[i]);
    }
    return ret;
}

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
    case AL_STAGE_SECCOMP: return "seccomp(SET_MODE_FILTER)";
    case AL_STAGE_SEND_LISTENER: return "sendmsg(seccomp listener)";
    case AL_STAGE_SIGNALS: return "rt_sigprocmask";
    case AL_STAGE_EXEC: return "execve";
    default: return "unknown stage";
    }
}
