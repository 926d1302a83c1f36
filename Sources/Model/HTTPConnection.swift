import Foundation

/// One HTTP/1.1 exchange over a ``Socket``: a request with `Content-Length`, a response with
/// `Content-Length`, chunked transfer encoding, or read-to-close; every part bounded.
struct HTTPConnection {
    /// A parsed response.
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    /// Why the exchange failed.
    enum Failure: Error {
        case socket(Socket.Failure)
        case tooLarge(Int)
        case malformed(String)
    }

    /// The largest header block accepted, in bytes.
    static let maxHeaderBytes = 64 << 10

    /// Where the bytes come from; `nil` when the whole reply was given up front.
    let socket: Socket?
    /// The largest body accepted, in bytes.
    let maxResponseBytes: Int
    /// When the whole exchange must be over.
    let deadline: Date

    private var buffer: [UInt8] = []
    private var closed = false

    init(socket: Socket, maxResponseBytes: Int, deadline: Date) {
        self.socket = socket
        self.maxResponseBytes = maxResponseBytes
        self.deadline = deadline
    }

    /// A connection whose peer already said everything in `reply` and closed: the same parser
    /// over bytes in hand (a recorded reply, a fuzzer's input).
    init(reply: [UInt8], maxResponseBytes: Int) {
        socket = nil
        self.maxResponseBytes = maxResponseBytes
        deadline = .distantFuture
        buffer = reply
        closed = true
    }

    /// Reads the response from the bytes given to ``init(reply:maxResponseBytes:)``.
    mutating func readReply() throws(Failure) -> Response { try readResponse() }

    /// Sends `POST path` with a JSON body and reads the response.
    /// - Parameter onBody: given the body's bytes as they arrive (a streamed reply's events),
    ///   before the whole body is returned.
    mutating func post(path: String, host: String, body: [UInt8], onBody: (([UInt8]) -> Void)? = nil)
        throws(Failure) -> Response
    {
        let head =
            "POST \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\n"
            + "Accept: application/json, text/event-stream\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return try exchange(head: head, body: body, onBody: onBody)
    }

    /// Sends `GET path` and reads the response.
    mutating func get(path: String, host: String) throws(Failure) -> Response {
        try exchange(
            head: "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
            body: [])
    }

    private mutating func exchange(head: String, body: [UInt8], onBody: (([UInt8]) -> Void)? = nil)
        throws(Failure) -> Response
    {
        guard let socket else { return try readResponse() }
        do {
            try socket.send(Array(head.utf8) + body, deadline: deadline)
        } catch {
            throw .socket(error)
        }
        return try readResponse(onBody: onBody)
    }

    private mutating func fill() throws(Failure) {
        guard !closed else { return }
        guard let socket else {
            closed = true
            return
        }
        let chunk: [UInt8]
        do {
            chunk = try socket.receive(maxBytes: 64 << 10, deadline: deadline)
        } catch {
            throw .socket(error)
        }
        if chunk.isEmpty { closed = true } else { buffer += chunk }
    }

    private static let crlf: [UInt8] = [13, 10]

    private func index(of pattern: [UInt8], from start: Int = 0) -> Int? {
        guard buffer.count >= pattern.count + start else { return nil }
        var i = start
        while i + pattern.count <= buffer.count {
            if buffer[i] == pattern[0], Array(buffer[i..<i + pattern.count]) == pattern { return i }
            i += 1
        }
        return nil
    }

    private mutating func readLine(limit: Int) throws(Failure) -> String {
        while true {
            if let end = index(of: Self.crlf) {
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 2)
                return line
            }
            guard buffer.count <= limit else { throw .malformed("a line is longer than \(limit) bytes") }
            guard !closed else { throw .malformed("the connection closed in the middle of a line") }
            try fill()
        }
    }

    private mutating func readBytes(_ count: Int) throws(Failure) -> [UInt8] {
        while buffer.count < count {
            guard !closed else {
                throw .malformed("the connection closed after \(buffer.count) of \(count) body bytes")
            }
            try fill()
        }
        let bytes = Array(buffer[..<count])
        buffer.removeFirst(count)
        return bytes
    }

    private mutating func readResponse(onBody: (([UInt8]) -> Void)? = nil) throws(Failure) -> Response {
        let statusLine = try readLine(limit: Self.maxHeaderBytes)
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw .malformed("not an HTTP/1.x status line: \(statusLine.prefix(80))")
        }
        var headers: [String: String] = [:]
        var headerBytes = statusLine.utf8.count
        while true {
            let line = try readLine(limit: Self.maxHeaderBytes)
            headerBytes += line.utf8.count + 2
            guard headerBytes <= Self.maxHeaderBytes else {
                throw .malformed("the response headers exceed \(Self.maxHeaderBytes) bytes")
            }
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else {
                throw .malformed("header line without ':': \(line.prefix(80))")
            }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body: [UInt8] = []
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try readLine(limit: 1024)
                let hex =
                    sizeLine.split(separator: ";").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
                guard let size = Int(hex, radix: 16), size >= 0 else {
                    throw .malformed("bad chunk size '\(sizeLine)'")
                }
                if size == 0 {
                    // Trailers, if any, end with an empty line.
                    while try !readLine(limit: Self.maxHeaderBytes).isEmpty {}
                    break
                }
                // Compared as a remainder: `body.count + size` overflows for a size near Int.max
                // (found by the model-reply fuzzer).
                guard size <= maxResponseBytes - body.count else {
                    throw .tooLarge(body.count.addingReportingOverflow(size).overflow ? Int.max : body.count + size)
                }
                let chunk = try readBytes(size)
                onBody?(chunk)
                body += chunk
                guard try readLine(limit: 2).isEmpty else { throw .malformed("a chunk does not end with CRLF") }
            }
        } else if let lengthText = headers["content-length"] {
            guard let length = Int(lengthText), length >= 0 else {
                throw .malformed("bad Content-Length '\(lengthText)'")
            }
            guard length <= maxResponseBytes else { throw .tooLarge(length) }
            body = try readBytes(length)
            onBody?(body)
        } else {
            var delivered = 0
            while true {
                guard buffer.count <= maxResponseBytes else { throw .tooLarge(buffer.count) }
                if let onBody, buffer.count > delivered {
                    onBody(Array(buffer[delivered...]))
                    delivered = buffer.count
                }
                if closed { break }
                try fill()
            }
            body = buffer
        }
        return Response(status: status, headers: headers, body: body)
    }
}
