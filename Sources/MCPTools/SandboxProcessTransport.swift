import Foundation
import Logging
import MCP
import Sandbox
import Synchronization

/// The MCP stdio transport over a confined process's pipes: each message one line of JSON on
/// its stdin, each line of its stdout one message (spec revision 2025-11-25, "stdio").
actor SandboxProcessTransport: Transport {
    nonisolated let logger = Logger(label: "airlock.mcp.client", factory: { _ in SwiftLogNoOpLogHandler() })

    private let process: SandboxProcess
    /// The longest line accepted from the server; a longer one ends the session.
    private let maxMessageBytes: Int
    private let messages: AsyncThrowingStream<Data, any Error>
    private let continuation: AsyncThrowingStream<Data, any Error>.Continuation
    private var reader: Task<Void, Never>?
    /// Told when the server's stdout ends: what answers the requests still waiting.
    private let ended: ServerEnd

    /// A transport over `process`, refusing any message over `maxMessageBytes`.
    init(process: SandboxProcess, maxMessageBytes: Int, ended: ServerEnd) {
        self.process = process
        self.maxMessageBytes = maxMessageBytes
        self.ended = ended
        (messages, continuation) = AsyncThrowingStream<Data, any Error>.makeStream()
    }

    func connect() async throws {
        guard reader == nil else { return }
        let output = process.output
        let continuation = self.continuation
        let limit = maxMessageBytes
        let ended = self.ended
        reader = Task {
            var pending: [UInt8] = []
            for await chunk in output {
                pending += chunk
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending[..<newline]
                    pending.removeSubrange(...newline)
                    if !line.isEmpty { continuation.yield(Data(line)) }
                }
                if pending.count > limit {
                    let error = ToolsLimitExceeded(what: "it sent a message over \(limit) bytes")
                    continuation.finish(throwing: MCPError.transportError(error))
                    ended.fire(error)
                    return
                }
            }
            // Finished with an error: the SDK's client reads a stream that merely ends again
            // and again, and only an error stops it.
            let error = ToolsLimitExceeded(what: "it closed its stdout (it ended or stopped answering)")
            continuation.finish(throwing: MCPError.connectionClosed)
            ended.fire(error)
        }
    }

    func disconnect() async {
        reader?.cancel()
        continuation.finish(throwing: MCPError.connectionClosed)
        process.closeInput()
    }

    func send(_ data: Data) async throws {
        try await process.write(Array(data) + [UInt8(ascii: "\n")])
    }

    nonisolated func receive() -> AsyncThrowingStream<Data, any Error> {
        messages
    }
}

/// The end of a server's output, which fails every operation still waiting on it (the SDK's
/// client leaves its pending requests waiting when its connection ends).
final class ServerEnd: Sendable {
    private struct State {
        var error: (any Error)?
        var waiting: [UInt64: @Sendable (any Error) -> Void] = [:]
        var next: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Calls `fail` when the output ends (at once if it has); returns a token for ``forget(_:)``.
    func onEnd(_ fail: @escaping @Sendable (any Error) -> Void) -> UInt64 {
        let (token, error) = state.withLock { state -> (UInt64, (any Error)?) in
            state.next += 1
            if state.error == nil { state.waiting[state.next] = fail }
            return (state.next, state.error)
        }
        if let error { fail(error) }
        return token
    }

    func forget(_ token: UInt64) {
        _ = state.withLock { $0.waiting.removeValue(forKey: token) }
    }

    func fire(_ error: any Error) {
        let waiting = state.withLock { state in
            defer { state.waiting = [:] }
            if state.error == nil { state.error = error }
            return Array(state.waiting.values)
        }
        for fail in waiting { fail(error) }
    }
}

/// A bound the transport holds a server to.
struct ToolsLimitExceeded: Error, CustomStringConvertible {
    var what: String
    var description: String { what }
}
