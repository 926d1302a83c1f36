import AirlockCore
import CSandbox

/// Why Airlock could not set up or supervise a confined run.
///
/// A program's own failure is never this error: it is an ``ExecutionRecord`` outcome. This error
/// means the sandbox itself could not be built as asked, and names the stage that failed
/// (`mount(bind /usr → /newroot/usr): EPERM`).
public struct SandboxError: AirlockFailure, Sendable, Hashable {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable, Codable {
        /// The spec itself is wrong (a relative mount target, a missing host path).
        case invalidSpec = "invalid-spec"
        /// A confinement layer could not be applied in the child.
        case setupFailed = "setup-failed"
        /// The program could not be executed inside the sandbox.
        case execFailed = "exec-failed"
        /// A confinement layer is not available on this host and was not allowed to be missing.
        case layerUnavailable = "layer-unavailable"
        /// Supervising the running child failed (reading its output, waiting for it).
        case supervisionFailed = "supervision-failed"
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed, for a person: the stage, the path, and the error.
    public var message: String
    /// The errno behind it, when there is one.
    public var errno: Int32?

    /// Creates an error.
    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String { message }

    /// The code's name (`setup-failed`).
    public var codeName: String { code.rawValue }

    /// A spec the caller got wrong is bad usage (64); anything else means nothing could run (125).
    public var exitStatus: CommandExit { code == .invalidSpec ? .usage : .sandboxSetup }
}

extension SandboxError {
    /// An error for a failed parent-side step of a spawn (`al_prespawn`/`al_start`, stage
    /// `AL_STAGE_NONE`, the index an `al_parent_step`).
    static func parentStep(_ failure: al_child_failure) -> SandboxError {
        let step = al_parent_step(index: failure.index)?.name
        return SandboxError(
            .setupFailed, "sandbox setup: \(step ?? "parent step \(failure.index)"): \(Posix.describe(failure.err))",
            errno: failure.err)
    }
}

/// A closed C enum of parent-side failure steps (`al_parent_step`, `al_template_step`).
protocol FailureStep: RawRepresentable where RawValue == UInt32 {
    /// How many steps the enum has (`al_parent_step_count`).
    static var stepCount: UInt32 { get }
}

extension FailureStep {
    /// The step a failure's index names, or `nil` for one outside the enum (an imported C enum
    /// takes any raw value, and a switch over an unknown one traps).
    init?(index: Int32) {
        guard index >= 0, UInt32(index) < Self.stepCount, let step = Self(rawValue: UInt32(index)) else {
            return nil
        }
        self = step
    }
}

extension al_parent_step: FailureStep {
    static var stepCount: UInt32 { al_parent_step_count }

    /// What the step does, for an error message.
    var name: String {
        switch self {
        case .clone: "clone"
        case .uidMap: "write uid_map"
        case .setgroups: "write setgroups"
        case .gidMap: "write gid_map"
        case .cgroup: "join cgroup"
        case .release: "release child"
        case .statusRead: "read child status"
        case .setnsNetwork: "setns(network)"
        case .setnsTemplate: "setns(template)"
        case .unshareFS: "unshare(CLONE_FS) on the template thread"
        case .templateThread: "start the template thread"
        }
    }
}

extension al_template_step: FailureStep {
    static var stepCount: UInt32 { al_template_step_count }

    /// What the step does, for an error message.
    var name: String {
        switch self {
        case .clone: "clone(CLONE_NEWNS)"
        case .openNamespace: "open(/proc/PID/ns/mnt)"
        case .wait: "read the builder's status"
        }
    }
}
