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

/// Where a call to one of an MCP server's tools goes once ``ToolRunner`` has checked it (schema,
/// pin, mounts): the run's session of that server (MCPTools' `MCPToolHost`).
public protocol ToolSessionCalling: Sendable {
    /// Calls `tool` on its server's session, started confined from `start` if it is not running.
    /// - Parameters:
    ///   - tool: a tool whose manifest's `mcp` is set.
    ///   - arguments: the validated arguments.
    ///   - start: the server's start, asked for only when it is not running yet.
    ///   - timeLimit: at most this many seconds, when less than the manifest's `limits.timeoutSeconds`.
    /// - Returns: the call's result, its record the session's confinement and the call's refusals,
    ///   its output whole (the runner redacts it, then cuts it at the manifest's `output.maxBytes`).
    /// - Throws: ``ToolsError``: `mcp-changed` (the server's tools differ from their pins),
    ///   `mcp-server` (it did not start or answer), `sandbox`, `secret-unavailable`.
    func call(
        _ tool: RegisteredTool, arguments: JSONValue,
        start: @escaping @Sendable () throws(ToolsError) -> SessionStart,
        timeLimit: Double?
    ) async throws(ToolsError) -> ToolRunResult
}

/// How a long-lived server starts: its sandbox spec, with the secrets its manifest declares laid
/// out for the session's life, and what removes them when the session ends.
public struct SessionStart: Sendable {
    /// The server's sandbox spec (``ToolRunner/prepare(_:arguments:context:)``'s, with its secrets).
    public var spec: SandboxSpec
    /// Removes the session's secret files; called once, when the session has ended.
    public var finish: @Sendable () -> Void

    /// Creates a start.
    public init(spec: SandboxSpec, finish: @escaping @Sendable () -> Void = {}) {
        self.spec = spec
        self.finish = finish
    }
}
