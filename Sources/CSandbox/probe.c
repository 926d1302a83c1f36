/* Host capability probes. Parent side only. See al_probe.h. */
#include "al_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif

static int al_probe_child(void *arg) {
    (void)arg;
    syscall(SYS_exit, 0);
    return 0;
}

int al_probe_clone(uint64_t flags) {
    static char stack[16384] __attribute__((aligned(16)));
    pid_t pid = clone(al_probe_child, stack + sizeof stack, (int)flags | SIGCHLD, NULL);
    if (pid < 0) return errno;
    int status;
    while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
    }
    return 0;
}

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

static int al_probe_detached_clone_child(void *arg) {
    (void)arg;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) syscall(SYS_exit, 2);
    long tree = syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE | AT_RECURSIVE | O_CLOEXEC);
    if (tree < 0) syscall(SYS_exit, 3);
    long sub = syscall(SYS_open_tree, (int)tree, "usr", OPEN_TREE_CLONE | AT_RECURSIVE | O_CLOEXEC);
    syscall(SYS_exit, sub < 0 ? 4 : 0);
    return 0;
}

int al_probe_detached_clone(void) {
    static char stack[16384] __attribute__((aligned(16)));
    pid_t pid = clone(al_probe_detached_clone_child, stack + sizeof stack, SIGCHLD, NULL);
    if (pid < 0) return errno;
    int status = 0;
    while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
    }
    return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : EINVAL;
}

int al_probe_seccomp_action(uint32_t action) {
    return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0 ? 0 : errno;
}

int al_probe_landlock_abi(void) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1 /* LANDLOCK_CREATE_RULESET_VERSION */);
    return abi < 0 ? 0 : (int)abi;
}

int al_probe_clone3(void) {
    /* A NULL argument of size 0 is rejected with EINVAL by a kernel that has clone3. */
    long r = syscall(SYS_clone3, NULL, 0);
    return (r < 0 && errno == ENOSYS) ? ENOSYS : 0;
}

int al_probe_pidfd(void) {
    long fd = syscall(SYS_pidfd_open, getpid(), 0);
    if (fd < 0) return errno;
    close((int)fd);
    return 0;
}

int al_probe_cap_last_cap(void) {
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    int last = 40;
    if (f != NULL) {
        if (fscanf(f, "%d", &last) != 1) last = 40;
        fclose(f);
    }
    return last;
}
