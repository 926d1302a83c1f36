/*
 * al_template: a template root (a mount namespace whose root already is a sandbox's), built once
 * and cloned from by al_prespawn (al_parent_steps.template_fd). See al_spawn.h for the spawn.
 */
#pragma once
#include "al_spawn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A template's parent-side step, the failure's index when its stage is AL_STAGE_TEMPLATE. */
enum AL_CLOSED_ENUM al_template_step {
    AL_TEMPLATE_CLONE AL_SWIFT_NAME(clone) = 0,
    AL_TEMPLATE_OPEN_NAMESPACE AL_SWIFT_NAME(openNamespace) = 1,
    AL_TEMPLATE_WAIT AL_SWIFT_NAME(wait) = 2,
};
/* How many template steps there are (see al_parent_step_count). */
static const uint32_t al_template_step_count = 3;

/* What a template's root is built from (see al_template_build). Owned by the caller. */
struct al_template_plan {
    const char *staging_dir;
    const char *old_root_name;
    const char *root_tmpfs_options;
    /* Applied after pivot_root; binds (AL_OP_BIND) read from the parked host root. */
    const struct al_mount_op *ops;
    size_t op_count;
};

/*
 * Builds a template: a mount namespace whose root is a sandbox's root, so that children cloned
 * from it (al_parent_steps.template_fd) copy a tree of a dozen mounts instead of the host's, and
 * neither build a root nor detach the host. A short-lived builder child, in a new mount
 * namespace, stages a tmpfs root, pivots into it, applies `plan`, detaches the host and makes the
 * root read-only; the namespace is kept through its descriptor (*template_fd) and the builder
 * exits. Needs CAP_SYS_ADMIN in the caller's user namespace (root): children are cloned from it by
 * a thread that enters it, and a thread cannot enter a user namespace. Returns 0, or -1 with
 * `failure` (the builder's stage and op index, or AL_STAGE_TEMPLATE). Thread-safe.
 */
int al_template_build(const struct al_template_plan *plan, int32_t *template_fd, struct al_child_failure *failure);

#ifdef __cplusplus
}
#endif
