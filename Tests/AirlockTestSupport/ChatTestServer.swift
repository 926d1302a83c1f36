import AirlockCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A small OpenAI-compatible HTTP/1.1 server on a unix-domain socket, started inside a test: it
/// plays scripted replies in order, one per connection, and keeps every request body it received.
public final class ChatTestServer: Sendable {
    /// One scripted reply.
    public struct Reply: Sendable {
        public var status = 200
        public var body: [UInt8]
        /// Send the body with chunked transfer encoding instead of Content-Length.
        public var chunked = false
        /// Wait this long before answering (a slow model); the wait ends early when the client
        /// hangs up, as a server notices a closed connection.
        public var delaySeconds: Double = 0
        /// Stream the reply as server-sent events: each of these bytes is one `data:` event sent
        /// as its own chunk, `pauseSeconds` apart, then `data: [DONE]` (``body`` is unused).
        public var events: [[UInt8]]? = nil
        /// The pause between streamed events.
        public var pauseSeconds: Double = 0

        /// A reply of these parts (the defaults: status 200, sent whole, at once).
        public init(
            status: Int = 200, body: [UInt8], chunked: Bool = false, delaySeconds: Double = 0,
            events: [[UInt8]]? = nil, pauseSeconds: Double = 0
        ) {
            self.status = status
            self.body = body
            self.chunked = chunked
            self.delaySeconds = delaySeconds
            self.events = events
            self.pauseSeconds = pauseSeconds
        }

        /// A streamed chat completion as llama-server sends one: a text delta per token, tool
        /// calls in fragments by index, the finish reason, then an event with only `usage`.
        public static func streamed(
            tokens: [String], calls: [(id: String, name: String, fragments: [String])] = [], pauseSeconds: Double = 0
        ) -> Reply {
            var events: [JSONValue] = []
            func chunk(_ delta: JSONValue, finish: JSONValue = .null) -> JSONValue {
                [
                    "object": "chat.completion.chunk",
                    "choices": [["index": 0, "delta": delta, "finish_reason": finish]],
                ]
            }
            events.append(chunk(["role": "assistant", "content": .null]))
            for token in tokens { events.append(chunk(["content": .string(token)])) }
            for (index, call) in calls.enumerated() {
                for (n, fragment) in call.fragments.enumerated() {
                    var wire: [String: JSONValue] = [
                        "index": .integer(Int64(index)), "function": ["arguments": .string(fragment)],
                    ]
                    if n == 0 {
                        wire["id"] = .string(call.id)
                        wire["type"] = "function"
                        wire["function"] = ["name": .string(call.name), "arguments": .string(fragment)]
                    }
                    events.append(chunk(["tool_calls": [.object(wire)]]))
                }
            }
            events.append(chunk([:], finish: .string(calls.isEmpty ? "stop" : "tool_calls")))
            events.append([
                "object": "chat.completion.chunk", "choices": [],
                "usage": ["prompt_tokens": 12, "completion_tokens": .integer(Int64(tokens.count))],
            ])
            return Reply(body: [], events: events.map(\.canonicalBytes), pauseSeconds: pauseSeconds)
        }

        /// A chat completion with `content` and/or tool calls `(id, name, arguments JSON text)`.
        public static func completion(
            content: String? = nil, calls: [(String?, String, String)] = [], chunked: Bool = false,
            finishReason: String? = nil, delaySeconds: Double = 0
        ) -> Reply {
            var message: [String: JSONValue] = ["role": "assistant", "content": content.map(JSONValue.string) ?? .null]
            if !calls.isEmpty {
                message["tool_calls"] = .array(
                    calls.map { id, name, arguments in
                        var call: [String: JSONValue] = [
                            "type": "function", "function": ["name": .string(name), "arguments": .string(arguments)],
                        ]
                        if let id { call["id"] = .string(id) }
                        return .object(call)
                    })
            }
            let document: JSONValue = [
                "id": "chatcmpl-test", "object": "chat.completion",
                "choices": [
                    [
                        "index": 0, "message": .object(message),
                        "finish_reason": .string(finishReason ?? (calls.isEmpty ? "stop" : "tool_calls")),
                    ]
                ],
                "usage": ["prompt_tokens": 12, "completion_tokens": 5],
            ]
            return Reply(body: document.canonicalBytes, chunked: chunked, delaySeconds: delaySeconds)
        }
    }

    public let path: String
    private let listener: Int32
    private let replies: Mutex<[Reply]>
    private let received = Mutex<[JSONValue]>([])

    /// The loopback TCP port, for a server started with `init(tcpReplies:)` (0 otherwise).
    public let port: UInt16

    /// Starts listening on 127.0.0.1 on a free port.
    public init(tcpReplies replies: [Reply]) throws {
        path = ""
        self.replies = Mutex(replies)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        let thread = Thread { [self] in self.serve() }
        thread.start()
    }

    /// Starts listening on a fresh socket under /tmp.
    public init(replies: [Reply]) throws {
        port = 0
        let path = "/tmp/al-chat-\(UUID().uuidString.prefix(8)).sock"
        self.path = path
        self.replies = Mutex(replies)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        listener = fd
        let thread = Thread { [self] in self.serve() }
        thread.start()
    }

    /// Every request body received, parsed.
    public var requests: [JSONValue] { received.withLock { $0 } }

    /// Stops accepting and removes the socket file.
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        if !path.isEmpty { unlink(path) }
    }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill() -> Bool {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, 65536, 0) }
            guard n > 0 else { return false }
            buffer += chunk[..<n]
            return true
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            if buffer.count >= 4 {
                headerEnd = (0...(buffer.count - 4)).first { Array(buffer[$0..<$0 + 4]) == separator }
            }
            if headerEnd == nil, !fill() { return }
        }
        guard let end = headerEnd else { return }
        let head = String(decoding: buffer[..<end], as: UTF8.self).lowercased()
        let length =
            head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        while buffer.count < end + 4 + length { if !fill() { return } }
        if let body = try? JSONParser().parse(Array(buffer[(end + 4)..<(end + 4 + length)])) {
            received.withLock { $0.append(body) }
        }
        let reply = replies.withLock { list -> Reply in
            list.isEmpty ? Reply(status: 500, body: Array("no more scripted replies".utf8)) : list.removeFirst()
        }
        if reply.delaySeconds > 0 {
            // Readable before the delay ends means the client sent more or hung up: a hang-up
            // (recv 0) ends the exchange, as it would for a real server.
            var pfd = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, Int32(reply.delaySeconds * 1000)) > 0 {
                var byte: UInt8 = 0
                if recv(client, &byte, 1, Int32(MSG_PEEK)) <= 0 { return }
            }
        }
        if let events = reply.events {
            var head = Array(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .utf8)
            for event in events.map({ Array("data: ".utf8) + $0 + [10, 10] }) + [Array("data: [DONE]\n\n".utf8)] {
                head += Array(String(event.count, radix: 16).utf8) + [13, 10] + event + [13, 10]
                guard Self.send(head, to: client) else { return }
                head = []
                if reply.pauseSeconds > 0 { usleep(UInt32(reply.pauseSeconds * 1e6)) }
            }
            _ = Self.send(Array("0\r\n\r\n".utf8), to: client)
            return
        }
        var out = "HTTP/1.1 \(reply.status) X\r\nContent-Type: application/json\r\nConnection: close\r\n"
        var bytes: [UInt8]
        if reply.chunked {
            out += "Transfer-Encoding: chunked\r\n\r\n"
            bytes = Array(out.utf8)
            var rest = reply.body[...]
            while !rest.isEmpty {
                let piece = rest.prefix(37)
                rest = rest.dropFirst(piece.count)
                bytes += Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10]
            }
            bytes += Array("0\r\n\r\n".utf8)
        } else {
            out += "Content-Length: \(reply.body.count)\r\n\r\n"
            bytes = Array(out.utf8) + reply.body
        }
        _ = Self.send(bytes, to: client)
    }

    /// Sends all of `bytes`; false when the client went away.
    private static func send(_ bytes: [UInt8], to client: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }
}
