/*
 * al_probe: what this kernel supports, asked without side effects that outlive the call.
 * Parent side only. Each returns 0 (supported) or a positive errno explaining why not,
 * except al_probe_landlock_abi, which returns the ABI version or 0.
 */
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clones a child with these CLONE_NEW* flags that exits at once; 0 if the kernel allowed it. */
int al_probe_clone(uint64_t flags);

/* Whether the kernel knows seccomp return action `action` (SECCOMP_GET_ACTION_AVAIL). */
int al_probe_seccomp_action(uint32_t action);

/* The Landlock ABI version, or 0 when Landlock is absent or disabled. */
int al_probe_landlock_abi(void);

/* Whether a mount can be cloned out of a detached mount tree (open_tree(OPEN_TREE_CLONE) on a
 * path inside a tree made by open_tree itself), tried in a throwaway child in its own user and
 * mount namespaces. */
int al_probe_detached_clone(void);

/* Whether clone3 exists (ENOSYS otherwise). */
int al_probe_clone3(void);

/* Whether pidfd_open works on this process. */
int al_probe_pidfd(void);

/* The last capability number (CAP_LAST_CAP) of the running kernel. */
int al_probe_cap_last_cap(void);

#ifdef __cplusplus
}
#endif
