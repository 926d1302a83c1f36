import AirlockCore
import Sandbox

/// Something that runs a ``SandboxSpec``: the real ``Sandbox``, or a recording fake in tests of
/// what Tools asks the sandbox to do.
public protocol SandboxRunning: Sendable {
    /// Runs `spec` and returns what happened.
    /// - Throws: ``SandboxError`` when the sandbox could not be set up.
    func run(_ spec: SandboxSpec) async throws(SandboxError) -> ExecutionRecord

    /// The host uid and gid sandboxed programs run as: read-write mounts must let them write, and
    /// every mount source must be reachable by them.
    var hostIdentity: (uid: UInt32, gid: UInt32) { get }

    /// Whether programs really run, so declared secrets must be delivered (`false` for a stand-in
    /// that only hands back recorded records, such as a replay's). Default `true`.
    var runsPrograms: Bool { get }
}

extension SandboxRunning {
    /// Real sandboxes run programs.
    public var runsPrograms: Bool { true }
}

extension Sandbox: SandboxRunning {}
