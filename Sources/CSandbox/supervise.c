/* Supervising a running sandbox. Parent side only. See al_supervise.h. */
#include "al_supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t al_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Reads what is available; returns 1 at EOF, 0 otherwise. */
static int al_drain(int fd, uint8_t *buf, size_t cap, size_t *kept, uint64_t *total) {
    uint8_t scratch[65536];
    for (;;) {
        uint8_t *dest = *kept < cap ? buf + *kept : scratch;
        size_t room = *kept < cap ? cap - *kept : sizeof scratch;
        ssize_t n = read(fd, dest, room);
        if (n > 0) {
            if (*kept < cap) *kept += (size_t)n;
            *total += (uint64_t)n;
            continue;
        }
        if (n == 0) return 1;
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return 0;
        return 1; /* a broken pipe is as good as closed */
    }
}

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

/*
 * A connect from a corridor run: 1 when it may go on (AF_UNIX, or a corridor's loopback address and port),
 * else 0 with where it tried to go in `refused`. The address is read from the caller's memory
 * (process_vm_readv) and the notification checked still valid afterwards, so the pid was the
 * caller's while it was read.
 */
static int al_connect_allowed(const struct al_supervise_config *c, int fd, const struct seccomp_notif *req,
                              struct al_refused_connect *refused) {
    memset(refused, 0, sizeof *refused);
    unsigned char address[sizeof(struct sockaddr_in6)];
    memset(address, 0, sizeof address);
    size_t length = req->data.args[2] < sizeof address ? (size_t)req->data.args[2] : sizeof address;
    struct iovec local = {.iov_base = address, .iov_len = length};
    struct iovec remote = {.iov_base = (void *)(uintptr_t)req->data.args[1], .iov_len = length};
    ssize_t n = length >= 2 ? process_vm_readv(req->pid, &local, 1, &remote, 1, 0) : -1;
    uint64_t id = req->id;
    if (n < 2 || ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) return 0;
    sa_family_t family;
    memcpy(&family, address, sizeof family);
    refused->family = family;
    if (family == AF_UNIX) return 1;
    if (family == AF_INET && n >= (ssize_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in in;
        memcpy(&in, address, sizeof in);
        refused->port = ntohs(in.sin_port);
        memcpy(refused->address, &in.sin_addr, 4);
        for (size_t i = 0; i < c->connect_port_count; i++) {
            if (c->connect_ports[i] == refused->port && c->connect_addresses[i] == ntohl(in.sin_addr.s_addr)) return 1;
        }
        return 0;
    }
    if (family == AF_INET6 && n >= (ssize_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6;
        memcpy(&in6, address, sizeof in6);
        refused->port = ntohs(in6.sin6_port);
        memcpy(refused->address, &in6.sin6_addr, 16);
    }
    return 0;
}

static void al_answer_notification(const struct al_supervise_config *c, int fd, struct al_supervise_result *result) {
    struct seccomp_notif req;
    memset(&req, 0, sizeof req);
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) return; /* ENOENT: the caller died first */
    if (c->inspect_connect && req.data.nr == SYS_connect) {
        struct al_refused_connect refused;
        if (al_connect_allowed(c, fd, &req, &refused)) {
            struct seccomp_notif_resp go = {.id = req.id, .val = 0, .error = 0, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
            ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &go);
            return;
        }
        if (result->refused_connect_count < AL_MAX_REFUSED_CONNECTS) {
            result->refused_connects[result->refused_connect_count++] = refused;
        } else {
            result->refused_connect_overflow++;
        }
    }
    struct al_denied_syscall *slot = NULL;
    for (size_t i = 0; i < result->denied_count; i++) {
        if (result->denied[i].number == req.data.nr) slot = &result->denied[i];
    }
    if (slot == NULL) {
        if (result->denied_count < AL_MAX_DENIED) {
            slot = &result->denied[result->denied_count++];
            slot->number = req.data.nr;
            slot->args[0] = req.data.args[0];
            slot->args[1] = req.data.args[1];
        } else {
            result->denied_overflow++;
        }
    }
    if (slot != NULL) slot->count++;
    if (c->on_denied != NULL) c->on_denied(c->on_denied_context, req.data.nr, req.data.args[0], req.data.args[1]);
    struct seccomp_notif_resp resp = {.id = req.id, .val = 0, .error = -EPERM, .flags = 0};
    ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

static void al_kill(const struct al_supervise_config *c) {
    if (syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0) < 0) kill(c->pid, SIGKILL);
}

int al_supervise(const struct al_supervise_config *c, struct al_supervise_result *r) {
    memset(r, 0, sizeof *r);
    int64_t start = al_now_ns();
    int64_t deadline = c->timeout_ns > 0 ? start + c->timeout_ns : 0;
    int64_t drain_deadline = 0;
    int out_open = c->stdout_fd >= 0, err_open = c->stderr_fd >= 0, alive = 1, notify_open = c->notify_fd >= 0;
    int cancel_open = c->cancel_fd >= 0;
    if (out_open) fcntl(c->stdout_fd, F_SETFL, fcntl(c->stdout_fd, F_GETFL) | O_NONBLOCK);
    if (err_open) fcntl(c->stderr_fd, F_SETFL, fcntl(c->stderr_fd, F_GETFL) | O_NONBLOCK);

    while (alive || out_open || err_open) {
        struct pollfd fds[5];
        int slots[5];
        nfds_t n = 0;
        if (alive) { fds[n] = (struct pollfd){.fd = c->pidfd, .events = POLLIN}; slots[n++] = 0; }
        if (out_open) { fds[n] = (struct pollfd){.fd = c->stdout_fd, .events = POLLIN}; slots[n++] = 1; }
        if (err_open) { fds[n] = (struct pollfd){.fd = c->stderr_fd, .events = POLLIN}; slots[n++] = 2; }
        if (alive && notify_open) { fds[n] = (struct pollfd){.fd = c->notify_fd, .events = POLLIN}; slots[n++] = 3; }
        if (alive && cancel_open) { fds[n] = (struct pollfd){.fd = c->cancel_fd, .events = POLLIN}; slots[n++] = 4; }

        int64_t now = al_now_ns();
        int64_t until = 0;
        if (alive && deadline > 0 && !r->timed_out) until = deadline;
        if (!alive) until = drain_deadline;
        int timeout_ms = -1;
        if (until > 0) {
            int64_t left = until - now;
            timeout_ms = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
        }
        int ready = poll(fds, n, timeout_ms);
        if (ready < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            if (alive) {
                al_kill(c);
                siginfo_t info;
                while (syscall(SYS_waitid, P_PID, c->pid, &info, WEXITED | __WALL, &r->usage) < 0 && errno == EINTR) {
                }
            }
            return -err;
        }
        if (ready == 0) {
            if (alive) {
                al_kill(c);
                r->timed_out = 1;
                continue;
            }
            break; /* drain grace over: whoever still holds a pipe is not the sandbox */
        }
        for (nfds_t i = 0; i < n; i++) {
            if (fds[i].revents == 0) continue;
            switch (slots[i]) {
            case 0: {
                siginfo_t info;
                memset(&info, 0, sizeof info);
                long w;
                do {
                    w = syscall(SYS_waitid, P_PID, c->pid, &info, WEXITED | __WALL, &r->usage);
                } while (w < 0 && errno == EINTR);
                if (w == 0) {
                    alive = 0;
                    drain_deadline = al_now_ns() + c->drain_grace_ns;
                    if (info.si_code == CLD_EXITED) {
                        r->kind = 1;
                        r->code = info.si_status;
                    } else {
                        r->kind = 2;
                        r->code = info.si_status;
                    }
                }
                break;
            }
            case 1:
                if (al_drain(c->stdout_fd, c->stdout_buf, c->stdout_cap, &r->stdout_kept, &r->stdout_total)) out_open = 0;
                break;
            case 2:
                if (al_drain(c->stderr_fd, c->stderr_buf, c->stderr_cap, &r->stderr_kept, &r->stderr_total)) err_open = 0;
                break;
            case 3:
                if (fds[i].revents & (POLLHUP | POLLERR)) {
                    notify_open = 0;
                } else {
                    al_answer_notification(c, c->notify_fd, r);
                }
                break;
            case 4:
                al_kill(c);
                r->cancelled = 1;
                cancel_open = 0;
                break;
            }
        }
    }
    return 0;
}
