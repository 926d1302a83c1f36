import AirlockCore
import Foundation
import MCP
import Sandbox
import Synchronization
import Tools

/// One MCP server, started confined and spoken to as an MCP client: initialized, its tools
/// listed, each call answered in turn. Lives as long as its owner keeps it (a run, or a
/// registration) and is killed with it.
public actor MCPServerSession {
    /// The server's name.
    public let name: String
    /// What it listed at its start: every tool, every page.
    public let tools: [MCP.Tool]
    /// The confined process.
    let process: SandboxProcess
    private let client: Client
    private let ended: ServerEnd

    /// The most tools a server may list (pages included): 256.
    public static let maximumTools = 256
    /// The longest message accepted from a server: 4 MiB.
    public static let maximumMessageBytes = 4 << 20

    private init(name: String, tools: [MCP.Tool], process: SandboxProcess, client: Client, ended: ServerEnd) {
        self.name = name
        self.tools = tools
        self.process = process
        self.client = client
        self.ended = ended
    }

    /// Starts the server confined from `spec`, initializes it and lists its tools, all within
    /// `timeout` seconds.
    /// - Throws: ``ToolsError``: `sandbox` (nothing ran), `mcp-server` (it did not answer in
    ///   time, ended, or broke the protocol; the end of its stderr in the cause).
    public static func start(name: String, spec: SandboxSpec, timeout: Double, sandbox: Sandbox = Sandbox())
        async throws(ToolsError) -> MCPServerSession
    {
        let process: SandboxProcess
        do {
            process = try await sandbox.start(spec)
        } catch {
            throw ToolsError(
                .sandbox, "MCP server \(name): the sandbox could not be set up; nothing ran", cause: error.message)
        }
        let client = Client(name: "airlock", version: "1")
        let ended = ServerEnd()
        let transport = SandboxProcessTransport(process: process, maxMessageBytes: maximumMessageBytes, ended: ended)
        do {
            let tools = try await Deadline.within(timeout, or: { process.kill() }, ended: ended) {
                () async throws -> [MCP.Tool] in
                try await client.connect(transport: transport)
                var tools: [MCP.Tool] = []
                var cursor: String? = nil
                repeat {
                    let page = try await client.listTools(cursor: cursor)
                    tools += page.tools
                    cursor = page.nextCursor
                    if tools.count > maximumTools {
                        throw ToolsLimitExceeded(what: "it lists more than \(maximumTools) tools")
                    }
                } while cursor != nil
                return tools
            }
            return MCPServerSession(name: name, tools: tools, process: process, client: client, ended: ended)
        } catch {
            process.kill()
            let stderr = await Self.stderrTail(process)
            throw ToolsError(
                .mcpServer, "MCP server \(name): did not start as an MCP server (initialize, tools/list): \(error)",
                cause: stderr)
        }
    }

    /// Calls `tool` with `arguments` and waits at most `timeout` seconds (the server is killed
    /// then: an answer that never comes leaves the session unusable). Cancelling the calling
    /// task kills the server too.
    /// - Returns: the server's result, the refusals counted during the call, the call's seconds.
    /// - Throws: ``ToolsError`` `mcp-server` when the server did not answer in time or broke the protocol.
    public func call(_ tool: String, arguments: JSONValue, timeout: Double) async throws(ToolsError) -> MCPCallOutcome {
        let before = process.deniedSyscalls()
        let started = ContinuousClock.now
        let request = CallTool.request(.init(name: tool, arguments: MCPJSON.value(arguments).objectValue))
        let client = self.client
        let process = self.process
        do {
            let ended = self.ended
            // Cancelling the calling task (the run cancelled) kills the server, as it kills a
            // tool's sandbox; its end then fails the waiting call at once.
            let result = try await withTaskCancellationHandler {
                try await Deadline.within(timeout, or: { process.kill() }, ended: ended) {
                    () async throws -> CallTool.Result in
                    try await client.send(request).value
                }
            } onCancel: {
                process.kill()
            }
            let elapsed = started.duration(to: .now)
            return MCPCallOutcome(
                result: result, deniedSyscalls: Self.since(before, process.deniedSyscalls()),
                seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        } catch {
            throw ToolsError(
                .mcpServer, "MCP server \(name): tools/call \(tool): \(error)", cause: await Self.stderrTail(process))
        }
    }

    /// Ends the server (its stdin closed, its sandbox killed) and returns its record.
    @discardableResult
    public func stop() async -> ExecutionRecord? {
        await client.disconnect()
        process.kill()
        return try? await process.wait()
    }

    /// The refusals of `now` that `before` had not counted.
    static func since(_ before: [DeniedSyscall], _ now: [DeniedSyscall]) -> [DeniedSyscall] {
        now.compactMap { entry in
            let earlier = before.first { $0.number == entry.number }?.count ?? 0
            guard entry.count > earlier else { return nil }
            var delta = entry
            delta.count = entry.count - earlier
            return delta
        }
    }

    /// The end of a killed server's stderr (at most 2 KiB), for the error's cause.
    static func stderrTail(_ process: SandboxProcess) async -> String? {
        guard let record = try? await process.wait() else { return nil }
        let tail = String(decoding: record.stderr.bytes.suffix(2048), as: UTF8.self)
        return tail.isEmpty ? nil : "stderr: \(tail)"
    }
}

/// What one `tools/call` came back with.
public struct MCPCallOutcome: Sendable {
    /// The server's result.
    public var result: CallTool.Result
    /// The syscalls refused while the call ran.
    public var deniedSyscalls: [DeniedSyscall]
    /// How long the call took.
    public var seconds: Double
}

/// The first of an operation and a deadline: at the deadline `expire` runs (it kills the
/// server, which ends the operation's wait) and the caller is answered at once.
enum Deadline {
    struct Expired: Error, CustomStringConvertible {
        var seconds: Double
        var description: String { "no answer within \(seconds) s" }
    }

    /// Resumes a continuation once, whoever comes first.
    final class Once<T: Sendable>: Sendable {
        private let continuation: Mutex<CheckedContinuation<T, any Error>?>
        init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }
        func answer(_ result: Result<T, any Error>) {
            let waiting = continuation.withLock { held in
                defer { held = nil }
                return held
            }
            waiting?.resume(with: result)
        }
        var answered: Bool { continuation.withLock { $0 == nil } }
    }

    static func within<T: Sendable>(
        _ seconds: Double, or expire: @escaping @Sendable () -> Void, ended: ServerEnd,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let once = Once(continuation)
            let token = ended.onEnd { once.answer(.failure($0)) }
            let timer = Task {
                try? await Task.sleep(for: .seconds(seconds))
                guard !Task.isCancelled, !once.answered else { return }
                expire()
                once.answer(.failure(Expired(seconds: seconds)))
            }
            Task {
                do { once.answer(.success(try await operation())) } catch { once.answer(.failure(error)) }
                timer.cancel()
                ended.forget(token)
            }
        }
    }
}
