/*
 * Host paths resolved once to a descriptor, and the mount tree at that descriptor cloned: the one
 * way a sandbox bind reads the host. Used by the parent (a run's host trees) and by the child (its
 * binds from the parked or detached host root), so raw syscalls only (al_syscall.h: no errno, no
 * libc state; async-signal-safe).
 *
 * openat2 never follows a symlink (RESOLVE_NO_SYMLINKS, RESOLVE_NO_MAGICLINKS) and, given a root
 * descriptor, stays inside it (RESOLVE_IN_ROOT); the tree is then cloned from the descriptor
 * (open_tree with AT_EMPTY_PATH), not looked up again by name. A path that holds a symlink, or
 * that was swapped for one after it was checked, fails with ELOOP.
 */
#pragma once
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "al_syscall.h"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#define SYS_move_mount 429
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif

/* How a bind source is resolved: no symlink anywhere on the way. */
#define AL_RESOLVE_BIND (RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

/*
 * Opens `path` (relative to `root`, which it may not leave, or absolute with `root` AT_FDCWD) as
 * an O_PATH descriptor, then clones the mount tree at it, recursively (a detached tree,
 * close-on-exec). Returns the tree's descriptor or -errno; nothing stays open on failure.
 */
static inline long al_clone_tree_at(int root, const char *path) {
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = AL_RESOLVE_BIND | (root == AT_FDCWD ? 0 : RESOLVE_IN_ROOT),
    };
    long fd = AL_SYS4(SYS_openat2, root, path, &how, sizeof how);
    if (fd < 0) return fd;
    long tree = AL_SYS3(SYS_open_tree, fd, "", OPEN_TREE_CLONE | AT_EMPTY_PATH | AT_RECURSIVE | O_CLOEXEC);
    AL_SYS1(SYS_close, fd);
    return tree;
}
