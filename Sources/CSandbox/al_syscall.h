/*
 * Raw system calls for the child side of a confined spawn.
 *
 * The child shares the parent's address space (CLONE_VM) until it calls execve, so it must not
 * touch errno (which lives in the parent thread's TLS) or any libc state. These inline wrappers
 * issue the syscall instruction directly and return the kernel's result: a value >= 0 on success,
 * or -errno on failure. They are async-signal-safe.
 */
#pragma once
#include <stdint.h>

static inline long al_sys6(long n, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
#else
#error "CSandbox supports x86_64 and aarch64"
#endif
}

#define AL_SYS0(n) al_sys6((n), 0, 0, 0, 0, 0, 0)
#define AL_SYS1(n, a) al_sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define AL_SYS2(n, a, b) al_sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define AL_SYS3(n, a, b, c) al_sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define AL_SYS4(n, a, b, c, d) al_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define AL_SYS5(n, a, b, c, d, e) al_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
