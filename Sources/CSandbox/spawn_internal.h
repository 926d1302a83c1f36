/*
 * What the three parts of a spawn share (child.c, parent.c, template.c): the kernel constants
 * newer than Debian 12's headers, the attribute structs of the new syscalls, a child's
 * bookkeeping (struct al_prespawned, shared with the child until it executes) and the functions
 * one part calls in another. Private to CSandbox.
 */
#pragma once
#include "al_spawn.h"
#include "al_template.h"

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

/* Defined in one part of the spawn and used by another; not part of the module's interface. */
#define AL_INTERNAL __attribute__((visibility("hidden")))

/* child.c: the entry points clone runs (a child's two phases; a template builder). */
AL_INTERNAL int al_child_main(void *arg);
AL_INTERNAL int al_builder_main(void *arg);

/* parent.c: a child's bookkeeping, the descriptors it sends, and its end. */
AL_INTERNAL struct al_prespawned *al_new_child(struct al_child_failure *failure);
AL_INTERNAL void al_free_prespawned(struct al_prespawned *ctx);
AL_INTERNAL void al_free_uncloned(struct al_prespawned *ctx);
AL_INTERNAL int al_receive_fd_blocking(int sock);
AL_INTERNAL void al_kill_and_reap(pid_t pid, int pidfd);
AL_INTERNAL int al_prespawn_here(const struct al_base_plan *base, const struct al_parent_steps *steps,
                                 struct al_prespawned **out, struct al_child_failure *failure);

/* template.c: al_prespawn_here on the template thread. */
AL_INTERNAL int al_prespawn_from_template(const struct al_base_plan *base, const struct al_parent_steps *steps,
                                          struct al_prespawned **out, struct al_child_failure *failure);
