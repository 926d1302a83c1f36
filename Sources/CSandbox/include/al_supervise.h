/*
 * al_supervise: watch one running sandbox until it is gone.
 *
 * Reads the program's stdout and stderr (keeping up to a cap, counting and dropping the rest so
 * a flood never blocks the child nor grows memory), answers seccomp user notifications with EPERM
 * and counts them per syscall, enforces the wall-clock timeout by killing the sandbox's init (the
 * kernel then kills every process of its PID namespace), and reaps the child with its rusage.
 * Blocking; run it on a thread of its own. Parent side only.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most distinct refused syscalls recorded per run; further ones are counted in `denied_overflow`. */
#define AL_MAX_DENIED 64

struct al_denied_syscall {
    int32_t number;
    uint32_t count;
    /* The first call's first two arguments (socket's family and type, say). */
    uint64_t args[2];
};

struct al_supervise_config {
    pid_t pid;
    int32_t pidfd;
    /* Read ends of the program's stdout and stderr pipes (the caller owns and closes them). */
    int32_t stdout_fd;
    int32_t stderr_fd;
    /* Seccomp listener, or -1. */
    int32_t notify_fd;
    /* A descriptor that becomes readable to ask for an early kill (cancellation), or -1. */
    int32_t cancel_fd;
    /* Wall-clock limit in nanoseconds from the call; <= 0 means none. */
    int64_t timeout_ns;
    /* After the sandbox is gone, how long to keep draining pipes someone else still holds. */
    int64_t drain_grace_ns;
    /* Caller-owned buffers of the given capacity for the kept output. */
    uint8_t *stdout_buf;
    size_t stdout_cap;
    uint8_t *stderr_buf;
    size_t stderr_cap;
};

struct al_supervise_result {
    /* 1 exited (code = exit status), 2 killed by a signal (code = signal). */
    int32_t kind;
    int32_t code;
    int32_t timed_out;
    int32_t cancelled;
    uint64_t stdout_total;
    uint64_t stderr_total;
    size_t stdout_kept;
    size_t stderr_kept;
    struct rusage usage;
    struct al_denied_syscall denied[AL_MAX_DENIED];
    size_t denied_count;
    uint64_t denied_overflow;
};

/* Supervises until the child is reaped and its pipes are drained. Returns 0, or -errno if
 * supervision itself failed (the child is then killed and reaped before returning). */
int al_supervise(const struct al_supervise_config *config, struct al_supervise_result *result);

#ifdef __cplusplus
}
#endif
