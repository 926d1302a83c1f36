/*
 * Templates: building one (al_template_build), and the one thread that clones children from
 * them, inside the template's mount namespace. See al_spawn.h.
 */
#include "spawn_internal.h"

/*
 * The template thread: children of a template are cloned by this one thread, which enters the
 * template's mount namespace for each (a process's other threads stay in the host's). It lives as
 * long as the process, since every child it clones has its parent-death signal tied to it, and
 * runs nothing but al_prespawn_here. Calls are handed to it one at a time: a caller waits until
 * no call is pending, posts its own, and waits until it is done.
 */
struct al_template_call {
    const struct al_base_plan *base;
    const struct al_parent_steps *steps;
    struct al_prespawned **out;
    struct al_child_failure *failure;
    int result;
    int done;
};

static pthread_mutex_t al_template_lock = PTHREAD_MUTEX_INITIALIZER; /* guards the three below */
static pthread_cond_t al_template_cond = PTHREAD_COND_INITIALIZER;
static struct al_template_call *al_template_pending;
static int al_template_thread_state; /* 0 not started, 1 running, -errno could not start */

static void *al_template_thread_main(void *unused) {
    (void)unused;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
    /* Entering a mount namespace needs a root and working directory of this thread's own. */
    int fs_err = unshare(CLONE_FS) == 0 ? 0 : errno;
    for (;;) {
        pthread_mutex_lock(&al_template_lock);
        while (al_template_pending == NULL) pthread_cond_wait(&al_template_cond, &al_template_lock);
        struct al_template_call *call = al_template_pending;
        pthread_mutex_unlock(&al_template_lock);

        memset(call->failure, 0, sizeof *call->failure);
        call->result = -1;
        if (fs_err != 0) {
            call->failure->err = fs_err;
            call->failure->index = AL_PARENT_UNSHARE_FS;
        } else if (setns(call->steps->template_fd, CLONE_NEWNS) != 0) {
            call->failure->err = errno;
            call->failure->index = AL_PARENT_SETNS_TEMPLATE;
        } else {
            call->result = al_prespawn_here(call->base, call->steps, call->out, call->failure);
        }

        pthread_mutex_lock(&al_template_lock);
        call->done = 1;
        al_template_pending = NULL;
        pthread_cond_broadcast(&al_template_cond);
        pthread_mutex_unlock(&al_template_lock);
    }
    return NULL;
}

/* In a child forked without exec the thread is gone (fork copies only the calling thread) and the
 * locks may be held by threads that are gone too: start over. */
static void al_template_after_fork_child(void) {
    pthread_mutex_init(&al_template_lock, NULL);
    pthread_cond_init(&al_template_cond, NULL);
    al_template_pending = NULL;
    al_template_thread_state = 0;
}

/* Runs al_prespawn_here on the template thread (started on first use). */
int al_prespawn_from_template(const struct al_base_plan *base, const struct al_parent_steps *steps,
                                     struct al_prespawned **out, struct al_child_failure *failure) {
    struct al_template_call call = {.base = base, .steps = steps, .out = out, .failure = failure};
    pthread_mutex_lock(&al_template_lock);
    if (al_template_thread_state == 0) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int err = pthread_create(&thread, &attr, al_template_thread_main, NULL);
        pthread_attr_destroy(&attr);
        al_template_thread_state = err == 0 ? 1 : -err;
        static int al_template_fork_handler;
        if (err == 0 && !al_template_fork_handler) {
            pthread_atfork(NULL, NULL, al_template_after_fork_child);
            al_template_fork_handler = 1;
        }
    }
    if (al_template_thread_state < 0) {
        failure->err = -al_template_thread_state;
        failure->index = AL_PARENT_TEMPLATE_THREAD;
        pthread_mutex_unlock(&al_template_lock);
        return -1;
    }
    while (al_template_pending != NULL) pthread_cond_wait(&al_template_cond, &al_template_lock);
    al_template_pending = &call;
    pthread_cond_broadcast(&al_template_cond);
    while (!call.done) pthread_cond_wait(&al_template_cond, &al_template_lock);
    pthread_mutex_unlock(&al_template_lock);
    return call.result;
}

int al_template_build(const struct al_template_plan *plan, int32_t *template_fd, struct al_child_failure *failure) {
    memset(failure, 0, sizeof *failure);
    failure->index = -1;
    *template_fd = -1;
    struct al_prespawned *ctx = al_new_child(failure);
    if (ctx == NULL) {
        failure->stage = AL_STAGE_TEMPLATE;
        return -1;
    }
    ctx->template_plan = plan;
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    ctx->pid = clone(al_builder_main, (char *)ctx->stack + AL_CHILD_STACK_SIZE, CLONE_VM | CLONE_PIDFD | CLONE_NEWNS,
                     ctx, &ctx->pidfd);
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (ctx->pid < 0) {
        *failure = (struct al_child_failure){.stage = AL_STAGE_TEMPLATE, .index = AL_TEMPLATE_CLONE, .err = clone_errno};
        al_free_uncloned(ctx);
        return -1;
    }
    close(ctx->status_child);
    close(ctx->sock_child);

    /* The builder reports a failed stage, or success (AL_STAGE_NONE) and then waits. */
    struct al_child_failure reported;
    ssize_t n;
    do {
        n = read(ctx->status_parent, &reported, sizeof reported);
    } while (n < 0 && errno == EINTR);
    int rc = -1;
    if (n != (ssize_t)sizeof reported) {
        *failure = (struct al_child_failure){.stage = AL_STAGE_TEMPLATE, .index = AL_TEMPLATE_WAIT, .err = n < 0 ? errno : EIO};
    } else if (reported.stage != AL_STAGE_NONE) {
        *failure = reported;
    } else {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/mnt", ctx->pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            *failure = (struct al_child_failure){.stage = AL_STAGE_TEMPLATE, .index = AL_TEMPLATE_OPEN_NAMESPACE, .err = errno};
        } else {
            *template_fd = fd;
            rc = 0;
        }
    }
    /* The namespace lives on through its descriptor; the builder goes. */
    al_kill_and_reap(ctx->pid, ctx->pidfd);
    al_free_prespawned(ctx);
    return rc;
}
