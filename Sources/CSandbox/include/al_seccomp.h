/*
 * al_seccomp: build the seccomp BPF program in the parent with libseccomp.
 *
 * The child only loads the finished program (al_spawn.h); building allocates, so it happens
 * here, once per distinct profile, and the result is cached by the Swift side.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How a refused syscall is answered. */
enum al_deny_mode {
    /* SECCOMP_RET_USER_NOTIF: the supervisor answers EPERM and records the call. */
    AL_DENY_NOTIFY = 1,
    /* SECCOMP_RET_ERRNO(EPERM): answered by the kernel, not recorded (degraded mode). */
    AL_DENY_ERRNO = 2,
};

/* A compiled program; `instructions` is malloc'd and freed with al_seccomp_free. */
struct al_seccomp_program {
    void *instructions;
    size_t byte_count;
    uint16_t instruction_count;
};

/*
 * Builds the filter: default action `deny_mode`; every name in `allowed` is allowed outright,
 * except the argument-filtered ones this function knows (socket/socketpair for AF_UNIX only,
 * clone/unshare without namespace flags, ioctl without TIOCSTI/TIOCLINUX), clone3 answers ENOSYS
 * (its flags live in memory a filter cannot read; libc falls back to clone), and every name in
 * `denied` is explicitly refused even if also listed as allowed. With `tcp_client` (a corridor
 * tool), socket also allows AF_INET SOCK_STREAM TCP, and connect (with AL_DENY_NOTIFY) is left to
 * the default action, so that the supervisor sees each one.
 *
 * Returns 0 and fills `out`, or a negative errno; on error `bad_name` points at the offending
 * syscall name (one of the caller's strings) when a name was the problem.
 */
int al_seccomp_build(const char *const *allowed, size_t allowed_count, const char *const *denied, size_t denied_count,
                     int deny_mode, int tcp_client, struct al_seccomp_program *out, const char **bad_name);

/* Frees a program built by al_seccomp_build. */
void al_seccomp_free(struct al_seccomp_program *program);

/* The name of syscall `number` on the native architecture, or NULL (caller frees with free()). */
char *al_seccomp_syscall_name(int number);

#ifdef __cplusplus
}
#endif
