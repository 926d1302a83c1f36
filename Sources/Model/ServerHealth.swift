import Foundation

/// What a model server's `GET /health` said (llama.cpp's `llama-server` answers 200 when the
/// model is loaded, 503 while it loads).
public enum ServerHealth: Sendable, Hashable, CustomStringConvertible {
    /// 200: ready for requests.
    case ready
    /// Answered, but not ready (503 while loading, or another status), with the body.
    case notReady(String)
    /// Nothing answered (no socket, connection refused, timeout), with the reason.
    case unreachable(String)

    /// Whether the server is ready.
    public var isReady: Bool { self == .ready }

    /// `ready`, `not ready: …` or `unreachable: …`.
    public var description: String {
        switch self {
        case .ready: "ready"
        case .notReady(let why): "not ready: \(why)"
        case .unreachable(let why): "unreachable: \(why)"
        }
    }
}

extension OpenAIChatClient {
    /// Asks the server's `GET /health`, once, without retrying.
    /// - Parameter timeoutSeconds: the most the exchange may take (default 2).
    public func health(timeoutSeconds: Double = 2) -> ServerHealth {
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        let socket: Socket
        let host: String
        do throws(Socket.Failure) {
            switch endpoint {
            case .unix(let path, _):
                socket = try Socket.connect(unixPath: path)
                host = "localhost"
            case .tcp(let name, let port, _):
                socket = try Socket.connect(host: name, port: port)
                host = "\(name):\(port)"
            case .script:
                return .unreachable("a scripted model has no server")
            }
        } catch {
            return .unreachable(error.text)
        }
        var connection = HTTPConnection(socket: socket, maxResponseBytes: 64 << 10, deadline: deadline)
        do {
            let response = try connection.get(path: "/health", host: host)
            if response.status == 200 { return .ready }
            return .notReady("HTTP \(response.status) \(String(decoding: response.body.prefix(200), as: UTF8.self))")
        } catch {
            return .unreachable("\(error)")
        }
    }
}
