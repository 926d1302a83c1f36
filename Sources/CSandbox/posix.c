/* See al_posix.h. */
#include "al_posix.h"
#include "al_mount_fd.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int al_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int al_accept_cloexec(int fd) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC); }

int al_pidfd_open(int32_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int al_pidfd_send_signal(int32_t pidfd, int32_t sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }

int al_open_current_netns(void) {
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int al_make_netns(int32_t *fd, uint64_t *inode) {
    int original = al_open_current_netns();
    if (original < 0) return original;
    int err = 0;
    if (unshare(CLONE_NEWNET) != 0) {
        err = -errno;
    } else {
        int made = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (made < 0 || fstat(made, &st) != 0) {
            err = -errno;
            if (made >= 0) close(made);
        } else {
            *fd = made;
            *inode = (uint64_t)st.st_ino;
        }
        /* Back to where this thread was; failing that, it must not go on in the wrong network. */
        if (setns(original, CLONE_NEWNET) != 0) abort();
    }
    close(original);
    return err;
}

int al_stat_bind_source(const char *path, struct stat *st) {
    struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = AL_RESOLVE_BIND};
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
    if (fd < 0) return -errno;
    int rc = fstat(fd, st) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}
