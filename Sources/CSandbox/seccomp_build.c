/* Building the seccomp filter with libseccomp. Parent side only. See al_seccomp.h. */
#include "al_seccomp.h"

#include <errno.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Every namespace flag: clone and unshare may be used, but never to make a namespace. */
static const uint64_t al_namespace_flags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                           CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME;

static int al_is(const char *name, const char *what) { return strcmp(name, what) == 0; }

/* Adds the allow rule(s) for one syscall, with argument filters where they matter. */
static int al_allow(scmp_filter_ctx ctx, const char *name, int nr, int tcp_client) {
    if (al_is(name, "socket") || al_is(name, "socketpair")) {
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0_32(SCMP_CMP_EQ, AF_UNIX));
        if (rc == 0 && tcp_client && al_is(name, "socket")) {
            /* A corridor tool's TCP client sockets: AF_INET, SOCK_STREAM (flags aside), TCP only. */
            const int protocols[] = {0, IPPROTO_TCP};
            for (size_t i = 0; i < 2 && rc == 0; i++) {
                rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 3, SCMP_A0_32(SCMP_CMP_EQ, AF_INET),
                                      SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM),
                                      SCMP_A2_32(SCMP_CMP_EQ, (uint32_t)protocols[i]));
            }
        }
        return rc;
    }
    if (al_is(name, "clone") || al_is(name, "unshare")) {
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0_64(SCMP_CMP_MASKED_EQ, al_namespace_flags, 0));
    }
    if (al_is(name, "clone3")) {
        return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
    }
    if (al_is(name, "ioctl")) {
        /* The request is 32 bits wide in the kernel: compare only those, so high bits cannot hide it.
         * Allowed: below TIOCSTI, between TIOCSTI and TIOCLINUX, above TIOCLINUX. */
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A1_32(SCMP_CMP_LT, TIOCSTI));
        if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A1_32(SCMP_CMP_GT, TIOCLINUX));
        for (unsigned long request = TIOCSTI + 1; rc == 0 && request < TIOCLINUX; request++) {
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A1_32(SCMP_CMP_EQ, request));
        }
        return rc;
    }
    return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

int al_seccomp_build(const char *const *allowed, size_t allowed_count, const char *const *denied, size_t denied_count,
                     int deny_mode, int tcp_client, struct al_seccomp_program *out, const char **bad_name) {
    memset(out, 0, sizeof *out);
    *bad_name = NULL;
    uint32_t deny = deny_mode == AL_DENY_NOTIFY ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(EPERM);
    scmp_filter_ctx ctx = seccomp_init(deny);
    if (ctx == NULL) return -ENOMEM;
    /* A binary tree of syscall numbers: fewer instructions per decision, both for the programs
     * we run and for the kernel, which emulates the filter per syscall when it is loaded to build
     * its always-allow cache. */
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    /* Foreign ABIs (x32, i386 via int 0x80) are killed outright: the default bad-arch action. */
    for (size_t i = 0; i < allowed_count && rc == 0; i++) {
        int denied_too = 0;
        for (size_t j = 0; j < denied_count; j++) denied_too |= al_is(allowed[i], denied[j]);
        if (denied_too) continue;
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        if (nr == __NR_SCMP_ERROR) {
            *bad_name = allowed[i];
            rc = -EINVAL;
            break;
        }
        /* A syscall this architecture lacks (negative pseudo-number) needs no rule. */
        if (nr < 0) continue;
        /* A corridor tool's connects go to the supervisor, which reads where they go (see
         * al_supervise.h); without notifications they are allowed, unrecorded. */
        if (tcp_client && deny_mode == AL_DENY_NOTIFY && al_is(allowed[i], "connect")) continue;
        rc = al_allow(ctx, allowed[i], nr, tcp_client);
        if (rc < 0) *bad_name = allowed[i];
    }
    if (rc == 0) {
        int memfd = memfd_create("airlock-bpf", MFD_CLOEXEC);
        if (memfd < 0) {
            rc = -errno;
        } else {
            rc = seccomp_export_bpf(ctx, memfd);
            off_t size = rc == 0 ? lseek(memfd, 0, SEEK_END) : -1;
            if (rc == 0 && size > 0) {
                out->instructions = malloc((size_t)size);
                if (out->instructions == NULL) {
                    rc = -ENOMEM;
                } else if (pread(memfd, out->instructions, (size_t)size, 0) != size) {
                    rc = -EIO;
                } else {
                    out->byte_count = (size_t)size;
                    out->instruction_count = (uint16_t)((size_t)size / 8);
                }
            } else if (rc == 0) {
                rc = -EIO;
            }
            close(memfd);
        }
    }
    seccomp_release(ctx);
    if (rc < 0) al_seccomp_free(out);
    return rc;
}

void al_seccomp_free(struct al_seccomp_program *program) {
    free(program->instructions);
    program->instructions = NULL;
    program->byte_count = 0;
    program->instruction_count = 0;
}

char *al_seccomp_syscall_name(int number) {
    return seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, number);
}
