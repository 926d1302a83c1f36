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

/* Most refused connect attempts recorded one by one per run; further ones are only counted. */
#define AL_MAX_REFUSED_CONNECTS 32

/* One connect the supervisor refused: where the program tried to go. */
struct al_refused_connect {
    /* AF_INET, AF_INET6, another family, or 0 when the address could not be read. */
    uint16_t family;
    /* The port, in host order (AF_INET/AF_INET6). */
    uint16_t port;
    /* The address bytes: 4 for AF_INET, 16 for AF_INET6. */
    uint8_t address[16];
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
    /*
     * Corridors: when set, the filter sends every connect here (it cannot read the address) and
     * the supervisor reads the address from the caller's memory: AF_UNIX, and AF_INET to a
     * corridor's listener (`connect_addresses`, `connect_ports`), continue; anything else is refused with EPERM and
     * recorded (refused_connects). The check is evidence, not the boundary: an address changed
     * after it was read still meets the sandbox's network namespace (loopback only) and Landlock.
     */
    int32_t inspect_connect;
    const uint16_t *connect_ports;
    /* The IPv4 address (host order) of each port's listener, parallel to the ports. */
    const uint32_t *connect_addresses;
    size_t connect_port_count;
    /* Caller-owned buffers of the given capacity for the kept output. */
    uint8_t *stdout_buf;
    size_t stdout_cap;
    uint8_t *stderr_buf;
    size_t stderr_cap;
    /*
     * Told of each refused syscall as it is counted, before the refusal is answered (so before the
     * caller's syscall returns EPERM), or NULL. A long-lived process's owner learns of refusals
     * while it runs (Sandbox's SandboxProcess). Called on the supervising thread; must not block.
     */
    void (*on_denied)(void *context, int32_t number, uint64_t arg0, uint64_t arg1);
    void *on_denied_context;
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
    struct al_refused_connect refused_connects[AL_MAX_REFUSED_CONNECTS];
    size_t refused_connect_count;
    uint64_t refused_connect_overflow;
};

/* Supervises until the child is reaped and its pipes are drained. Returns 0, or -errno if
 * supervision itself failed (the child is then killed and reaped before returning). */
int al_supervise(const struct al_supervise_config *config, struct al_supervise_result *result);

#ifdef __cplusplus
}
#endif
