import AirlockCore
import CSandbox
import Foundation
import Synchronization

/// A mount namespace whose root already is a sandbox's root, which children are cloned from.
///
/// Without one, every child copies the host's mount tree, builds a root of its own (a tmpfs, the
/// system binds, `/etc` files, `/dev` nodes), pivots into it and detaches the host: three trees
/// torn down per run, each waiting for an RCU grace period. A child cloned from a template copies
/// a tree of about a dozen mounts, mounts only its own `/proc` and `/tmp`, and attaches its run's
/// binds, which the parent clones from its own view of the host (`open_tree`) and sends with the
/// run. What the sandbox holds is the same: a template's root is the run's base root plus exactly
/// the mount points and files its own plan would create (``MountPlan/takeTemplateSteps()``), so
/// templates are kept per distinct set of those (``BasePlan/templated(skeleton:)``).
///
/// One difference is recorded in the mount table: below the sandbox's `/proc` lies the host's,
/// covered. A user namespace may mount a new proc only where one is already fully visible (the
/// kernel's `mount_too_revealing`), as bubblewrap's and every container runtime's setup also has
/// it until they detach the host. Nothing in the sandbox can reach it: no capability, and
/// `umount2` is refused by the seccomp filter.
///
/// Templates need root: the children are cloned by a thread that enters the template's mount
/// namespace, and a thread of a multi-threaded process cannot enter a user namespace (which an
/// unprivileged template would need). Unprivileged, and wherever building one fails, each child
/// builds its root itself; `airlock sandbox probe` says which is in use and why.
final class SandboxTemplate: Sendable {
    /// The template's mount namespace (nsfs descriptor), kept open for as long as it is used.
    let fd: Int32

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        // Tearing down a mount namespace waits for an RCU grace period.
        SandboxRuntime.shared.releaser.release(fd)
    }

    /// The environment variable that turns templates off (`off`), for comparison and diagnosis.
    static let switchVariable = "AIRLOCK_SANDBOX_TEMPLATES"

    /// Why this process builds each sandbox's root in its child instead, or `nil` while templates
    /// are in use.
    static var unavailable: String? { state.withLock { $0 } }

    private static let state = Mutex<String?>(initialReason())

    private static func initialReason() -> String? {
        if ProcessInfo.processInfo.environment[switchVariable] == "off" {
            return "turned off (\(switchVariable)=off)"
        }
        if geteuid() != 0 {
            return
                "needs root: a template's children are cloned by a thread that enters its mount namespace, and a thread cannot enter a user namespace"
        }
        return nil
    }

    /// Builds a template whose root results from `base` and then `skeleton` (applied after
    /// `pivot_root`, binds read from the parked host root). `nil` when it cannot be built. A failed
    /// skeleton step is the run's own problem (the run then builds its root itself and reports that
    /// step precisely); any other failure means templates cannot work here, so they are not tried
    /// again in this process and ``unavailable`` holds the failed stage.
    static func build(base: [MountPlan.Step], skeleton: [MountPlan.Step]) -> SandboxTemplate? {
        guard unavailable == nil else { return nil }
        let steps = base + skeleton
        let arena = CStringArena()
        let ops = MountPlan.cOperations(steps, in: arena)
        var plan = al_template_plan()
        plan.staging_dir = UnsafePointer(arena.string(MountPlan.stagingDirectory))
        plan.old_root_name = UnsafePointer(arena.string(MountPlan.oldRoot))
        plan.root_tmpfs_options = UnsafePointer(arena.string(MountPlan.rootTmpfsOptions))
        plan.ops = UnsafePointer(arena.array(ops))
        plan.op_count = ops.count
        var fd: Int32 = -1
        var failure = al_child_failure()
        if al_template_build(&plan, &fd, &failure) == 0 { return SandboxTemplate(fd: fd) }

        let stage = al_stage(rawValue: UInt32(failure.stage))
        let index = Int(failure.index)
        let isStep = stage == AL_STAGE_OP || stage == AL_STAGE_OP_SETATTR
        if isStep && index >= base.count { return nil }
        var name = String(cString: al_stage_name(failure.stage))
        if isStep, steps.indices.contains(index) {
            name = steps[index].failureName(stage: name)
        } else if stage == AL_STAGE_TEMPLATE, let step = al_template_step(index: failure.index) {
            name = step.name
        }
        let reason = "building one failed: \(name): \(Posix.describe(failure.err))"
        state.withLock { $0 = reason }
        return nil
    }
}
