import Foundation

/// The one HTTP/1.1 request an HTTP corridor reads from a tool before it connects to the
/// service: its head parsed strictly (anything ambiguous is refused, never guessed at), checked
/// against the corridor's ``HTTPRules``, and rewritten to ask the service to close after it.
struct CorridorRequest: Sendable, Hashable {
    var method: String
    /// The request target's path, without its query.
    var path: String
    /// The head as forwarded: the request line, every header but the connection ones, and
    /// `Connection: close`.
    var forwardedHead: [UInt8]
    /// The body's length (`Content-Length`; 0 without one).
    var bodyLength: Int

    /// Why a request was not forwarded: the status Airlock answers with and the reason recorded.
    struct Refusal: Error, Sendable, Hashable {
        var status: Int
        var reason: String
        var method: String?
        var path: String?
    }

    /// Headers that belong to one hop and are dropped: the corridor sets its own.
    static let hopHeaders: Set<String> = ["connection", "keep-alive", "proxy-connection", "upgrade", "te", "trailer"]

    /// Parses `head` (everything up to and including the blank line) and checks it against `rules`.
    static func parse(_ head: [UInt8], rules: HTTPRules) -> Result<CorridorRequest, Refusal> {
        // Cut on bytes: in a Swift string "\r\n" is one character.
        guard head.count >= 4, head.suffix(4).elementsEqual([13, 10, 13, 10]),
            let text = String(bytes: head.dropLast(4), encoding: .utf8)
        else {
            return .failure(Refusal(status: 400, reason: "the request head is not UTF-8 text ending in a blank line"))
        }
        var lines = text.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3, requestLine[2] == "HTTP/1.1" || requestLine[2] == "HTTP/1.0",
            !requestLine[0].isEmpty, requestLine[0].allSatisfy({ $0.isASCII && ($0.isUppercase || $0 == "-") })
        else {
            return .failure(Refusal(status: 400, reason: "not an HTTP/1.1 request line"))
        }
        let method = String(requestLine[0])
        let target = String(requestLine[1])
        let path = String(target.prefix { $0 != "?" })
        // Origin form only, and no spelling of a path that could mean another one to the service.
        let lowered = path.lowercased()
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard path.hasPrefix("/"), !lowered.contains("%2e"), !lowered.contains("%2f"), !lowered.contains("%5c"),
            !path.contains("\\"), !segments.contains(where: { $0 == "." || $0 == ".." }), !target.contains("#")
        else {
            return .failure(
                Refusal(status: 400, reason: "request target \(target) is not a plain absolute path", method: method))
        }
        var forwarded = "\(method) \(target) \(requestLine[2])\r\n"
        var length: Int?
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), line.first.map({ !$0.isWhitespace }) == true else {
                return .failure(Refusal(status: 400, reason: "a malformed header line", method: method, path: path))
            }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, !name.contains(where: \.isWhitespace) else {
                return .failure(Refusal(status: 400, reason: "a malformed header name", method: method, path: path))
            }
            if name == "transfer-encoding" {
                return .failure(
                    Refusal(
                        status: 411, reason: "Transfer-Encoding is not forwarded (send Content-Length)", method: method,
                        path: path))
            }
            if name == "content-length" {
                guard let n = Int(value), n >= 0, value.allSatisfy(\.isNumber), length == nil || length == n else {
                    return .failure(
                        Refusal(status: 400, reason: "an ambiguous Content-Length", method: method, path: path))
                }
                length = n
            }
            if hopHeaders.contains(name) { continue }
            forwarded += line + "\r\n"
        }
        guard rules.allows(method: method, path: path) else {
            return .failure(
                Refusal(
                    status: 403, reason: "\(method) \(path) is not allowed by this corridor", method: method, path: path
                ))
        }
        forwarded += "Connection: close\r\n\r\n"
        return .success(
            CorridorRequest(method: method, path: path, forwardedHead: Array(forwarded.utf8), bodyLength: length ?? 0))
    }

    /// The answer Airlock gives a refused request itself.
    static func response(to refusal: Refusal) -> [UInt8] {
        let phrases = [
            400: "Bad Request", 403: "Forbidden", 411: "Length Required", 431: "Request Header Fields Too Large",
            502: "Bad Gateway",
        ]
        let body = "airlock corridor: \(refusal.reason)\n"
        return Array(
            ("HTTP/1.1 \(refusal.status) \(phrases[refusal.status] ?? "Refused")\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body).utf8)
    }

    /// The status code of a response that starts with `bytes` (`HTTP/1.1 200 …`), if it is one.
    static func status(of bytes: some Collection<UInt8>) -> Int? {
        let line = bytes.prefix(32)
        guard line.starts(with: Array("HTTP/1.".utf8)), line.count >= 12 else { return nil }
        let digits = line.dropFirst(9).prefix(3)
        guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(String(decoding: digits, as: UTF8.self))
    }
}
