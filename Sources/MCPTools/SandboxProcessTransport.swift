import Foundation
import Logging
import MCP
import Sandbox

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

    /// A transport over `process`, refusing any message over `maxMessageBytes`.
    init(process: SandboxProcess, maxMessageBytes: Int) {
        self.process = process
        self.maxMessageBytes = maxMessageBytes
        (messages, continuation) = AsyncThrowingStream<Data, any Error>.makeStream()
    }

    func connect() async throws {
        guard reader == nil else { return }
        let output = process.output
        let continuation = self.continuation
        let limit = maxMessageBytes
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
                    continuation.finish(
                        throwing: MCPError.transportError(
                            ToolsLimitExceeded(what: "a message from the server over \(limit) bytes")))
                    return
                }
            }
            continuation.finish()
        }
    }

    func disconnect() async {
        reader?.cancel()
        continuation.finish()
        process.closeInput()
    }

    func send(_ data: Data) async throws {
        try await process.write(Array(data) + [UInt8(ascii: "\n")])
    }

    nonisolated func receive() -> AsyncThrowingStream<Data, any Error> {
        messages
    }
}

/// A bound the transport holds a server to.
struct ToolsLimitExceeded: Error, CustomStringConvertible {
    var what: String
    var description: String { what }
}
