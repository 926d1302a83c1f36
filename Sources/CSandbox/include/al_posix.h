/* Small POSIX calls and constants Swift's Glibc module does not expose (they need
 * _GNU_SOURCE or live in kernel headers). Parent side. */
#pragma once
#include <linux/sched.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* pipe2(fds, O_CLOEXEC). Returns 0 or -1 with errno set. */
int al_pipe_cloexec(int fds[2]);

/* accept4(fd, NULL, NULL, SOCK_CLOEXEC). Returns the socket or -1 with errno set. */
int al_accept_cloexec(int fd);

/* pidfd_open(pid, 0): a descriptor that names this process and no later one with its pid
 * (close-on-exec). Returns the descriptor or -1 with errno set (ESRCH: no such process). */
int al_pidfd_open(int32_t pid);

/* pidfd_send_signal(pidfd, sig, NULL, 0). Returns 0 or -1 with errno set. */
int al_pidfd_send_signal(int32_t pidfd, int32_t sig);

/* The status of a bind source resolved as the sandbox binds it (openat2 with RESOLVE_NO_SYMLINKS
 * and RESOLVE_NO_MAGICLINKS, then fstat): 0, or -errno (-ELOOP: a symlink on the way). */
struct stat;
int al_stat_bind_source(const char *path, struct stat *st);

/* Every namespace a sandbox is created in: user, mnt, pid, net, ipc, uts, cgroup. */
static const uint64_t al_sandbox_namespaces =
    CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
static const uint64_t al_clone_newuser = CLONE_NEWUSER;
static const uint64_t al_clone_newnet = CLONE_NEWNET;

/* Resource numbers for prlimit64 (glibc exposes them only as an enum Swift cannot name). */
static const int32_t al_rlimit_cpu = 0;
static const int32_t al_rlimit_fsize = 1;
static const int32_t al_rlimit_core = 4;
static const int32_t al_rlimit_nproc = 6;
static const int32_t al_rlimit_nofile = 7;
static const int32_t al_rlimit_as = 9;

#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Creates a new, empty network namespace and returns an open descriptor for it (close-on-exec)
 * in `fd` and its inode in `inode`. The calling thread enters it only for the moment it takes to
 * open it, then returns to its own. Needs CAP_SYS_ADMIN (root); returns 0 or -errno.
 */
int al_make_netns(int32_t *fd, uint64_t *inode);

/* Opens the calling thread's current network namespace (close-on-exec); fd or -errno. */
int al_open_current_netns(void);

#ifdef __cplusplus
}
#endif
