import AirlockCore
import Foundation
import MCP
import Sandbox
import Synchronization
import Tools

/// A run's MCP servers: one confined session per server, started at the run's first call to
/// one of its tools, checked against the pins before any call, killed when the run ends
/// (``shutdown()``). What ``Tools/ToolRunner`` hands calls to `SERVER.TOOL` to.
public final class MCPToolHost: ToolSessionCalling {
    /// The longest a server may live, in seconds: its sandbox's wall limit. Default 3600; a run's
    /// host gets the run's wall budget and ``stopGraceSeconds``.
    public let sessionSeconds: Double
    /// What a run's servers may outlive its wall budget by, while the run ends and stops them: 30 s.
    public static let stopGraceSeconds: Double = 30
    /// How long a server may take to start, initialize and list its tools. Default 30 s.
    public let startSeconds: Double
    private let sandbox: Sandbox

    /// A running server and what removes its secrets once it has stopped.
    private struct Running: Sendable {
        let session: MCPServerSession
        let finish: @Sendable () -> Void
    }

    private enum Slot {
        case starting(Task<Result<Running, ToolsError>, Never>)
        case failed(ToolsError)
    }

    private let sessions = Mutex<[String: Slot]>([:])
    private let closed = Mutex(false)

    /// Creates a host with no server running.
    /// - Parameters:
    ///   - sessionSeconds: the longest a server may live (default 3600 s).
    ///   - startSeconds: the longest a server may take to be ready (default 30 s).
    ///   - sandbox: what runs the servers (default the real ``Sandbox``).
    public init(sessionSeconds: Double = 3600, startSeconds: Double = 30, sandbox: Sandbox = Sandbox()) {
        self.sessionSeconds = sessionSeconds
        self.startSeconds = startSeconds
        self.sandbox = sandbox
    }

    public func call(
        _ tool: RegisteredTool, arguments: JSONValue,
        start: @escaping @Sendable () throws(ToolsError) -> SessionStart, timeLimit: Double?
    ) async throws(ToolsError) -> ToolRunResult {
        guard let binding = tool.manifest.mcp else {
            throw ToolsError(.mcpServer, "\(tool.reference): not a tool of an MCP server")
        }
        let session = try await self.session(for: binding, start: start)
        let timeout = min(tool.manifest.limits.timeoutSeconds, timeLimit ?? .infinity)
        let outcome = try await session.call(
            binding.tool, arguments: arguments, timeout: max(timeout, ToolRunner.shortestTimeLimitSeconds))
        // The whole answer (a message is at most 4 MiB): the runner redacts it, then cuts it at the cap.
        let record = MCPResultMapping.record(
            outcome, session: session.process, tool: binding.tool, cap: MCPServerSession.maximumMessageBytes)
        return ToolRunResult(
            tool: tool.reference, arguments: Array(session.process.argv.dropFirst()), record: record,
            manifest: tool.manifest)
    }

    /// The running session of the binding's server, started (and checked) on first use. A
    /// server that failed to start or whose tools changed stays refused for the run.
    private func session(
        for binding: MCPBinding, start begin: @escaping @Sendable () throws(ToolsError) -> SessionStart
    ) async throws(ToolsError) -> MCPServerSession {
        if closed.withLock({ $0 }) {
            throw ToolsError(.mcpServer, "MCP server \(binding.server): the run is over; its servers are stopped")
        }
        let (startSeconds, sandbox, sessionSeconds) = (self.startSeconds, self.sandbox, self.sessionSeconds)
        let start: @Sendable () async -> Result<Running, ToolsError> = {
            var finish: @Sendable () -> Void = {}
            do throws(ToolsError) {
                let begun = try begin()
                finish = begun.finish
                var spec = begun.spec
                spec.limits.wallTimeSeconds = sessionSeconds
                let session = try await MCPServerSession.start(
                    name: binding.server, spec: spec, timeout: startSeconds, sandbox: sandbox)
                let changes = MCPPinDiff(pinned: binding.pins, listed: session.tools)
                guard changes.isEmpty else {
                    await session.stop()
                    throw ToolsError(
                        .mcpChanged,
                        "MCP server \(binding.server): its tools changed since they were reviewed; refusing to call any of them (rug pull, asi:04) until `airlock tools add --accept-changes` re-pins them (\(changes.summary))",
                        threats: ["maestro:L7", "asi:04"])
                }
                return .success(Running(session: session, finish: finish))
            } catch {
                finish()
                return .failure(error)
            }
        }
        let slot = sessions.withLock { sessions -> Slot in
            if let slot = sessions[binding.server] { return slot }
            let slot = Slot.starting(Task(operation: start))
            sessions[binding.server] = slot
            return slot
        }
        switch slot {
        case .failed(let error): throw error
        case .starting(let task):
            let result = await task.value
            if case .failure(let error) = result {
                sessions.withLock { $0[binding.server] = .failed(error) }
            }
            return try result.get().session
        }
    }

    /// Stops every server (idempotent); later calls are refused.
    public func shutdown() async {
        closed.withLock { $0 = true }
        let slots = sessions.withLock { sessions in
            defer { sessions = [:] }
            return Array(sessions.values)
        }
        for case .starting(let task) in slots {
            if case .success(let running) = await task.value {
                await running.session.stop()
                running.finish()
            }
        }
    }
}

/// How a `tools/call` result becomes what a tool's run records and the model reads.
enum MCPResultMapping {
    /// The call's record: the session's argv and confinement, the refusals of the call, its
    /// seconds; stdout the result (structured content as JSON when there is some, else the
    /// content), exit 1 and the content on stderr too for an error result (`isError: true`).
    static func record(_ outcome: MCPCallOutcome, session: SandboxProcess, tool: String, cap: Int) -> ExecutionRecord {
        let text = Self.text(outcome.result)
        let isError = outcome.result.isError == true
        let stderr = isError ? "MCP tool \(tool) answered isError: true\n\(text)" : ""
        return session.record(
            ofRequest: "tools/call \(tool)", exitCode: isError ? 1 : 0, stdout: Array(text.utf8),
            stderr: Array(stderr.utf8), cap: cap, seconds: outcome.seconds, deniedSyscalls: outcome.deniedSyscalls)
    }

    /// Structured content as canonical JSON; else each content item: text as it is, anything
    /// else named with its type and size.
    static func text(_ result: CallTool.Result) -> String {
        if let structured = result.structuredContent, let json = MCPJSON.json(structured) {
            return json.canonicalString
        }
        return result.content.map { item -> String in
            switch item {
            case .text(let text, _, _): text
            case .image(let data, let mimeType, _, _): "[image \(mimeType), \(data.utf8.count) bytes of base64]"
            case .audio(let data, let mimeType, _, _): "[audio \(mimeType), \(data.utf8.count) bytes of base64]"
            case .resource(let resource, _, _): "[resource \(resource.uri)]"
            case .resourceLink(let uri, let name, _, _, _, _): "[resource link \(name): \(uri)]"
            }
        }.joined(separator: "\n")
    }
}
