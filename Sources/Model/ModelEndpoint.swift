import Foundation

/// Where the model is: a unix-domain socket, a TCP host and port, or a scripted file.
public enum ModelEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// `unix:PATH[#/v1/chat/completions]`: an HTTP server on a unix-domain socket.
    case unix(path: String, requestPath: String)
    /// `http://HOST:PORT[/PATH]`: an HTTP server over TCP.
    case tcp(host: String, port: UInt16, requestPath: String)
    /// `script:FILE.yaml`: written-out responses played in order.
    case script(path: String)

    /// The chat-completions path used when the endpoint names none.
    public static let defaultRequestPath = "/v1/chat/completions"

    /// Parses an endpoint and applies the air-gap rule.
    ///
    /// - Parameters:
    ///   - text: `unix:PATH`, `http://HOST:PORT[/PATH]` or `script:FILE`.
    ///   - allowedHosts: internal model hosts the site lists (`model_hosts:`), besides loopback.
    ///   - base: the directory relative paths start from.
    /// - Throws: ``ModelError`` `invalid-endpoint`, or `endpoint-refused` for a host that is
    ///   neither loopback nor listed.
    public static func parse(_ text: String, allowedHosts: [String] = [], base: URL? = nil) throws(ModelError)
        -> ModelEndpoint
    {
        func absolute(_ path: String) -> String {
            guard !path.hasPrefix("/"), let base else { return path }
            return base.appendingPathComponent(path).standardizedFileURL.path
        }
        if text.hasPrefix("unix:") {
            let rest = String(text.dropFirst(5))
            let parts = rest.split(separator: "#", maxSplits: 1).map(String.init)
            guard let path = parts.first, !path.isEmpty else {
                throw ModelError(.invalidEndpoint, "model endpoint \(text): expected unix:PATH")
            }
            return .unix(path: absolute(path), requestPath: parts.count == 2 ? parts[1] : defaultRequestPath)
        }
        if text.hasPrefix("script:") {
            let path = String(text.dropFirst(7))
            guard !path.isEmpty else {
                throw ModelError(.invalidEndpoint, "model endpoint \(text): expected script:FILE.yaml")
            }
            return .script(path: absolute(path))
        }
        if text.hasPrefix("https://") {
            throw ModelError(
                .invalidEndpoint,
                "model endpoint \(text): https is not supported; use a unix socket or http:// on loopback or an internal host"
            )
        }
        guard text.hasPrefix("http://") else {
            throw ModelError(
                .invalidEndpoint, "model endpoint \(text): expected unix:PATH, http://HOST:PORT[/PATH] or script:FILE")
        }
        let rest = text.dropFirst(7)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        let host: String
        let portText: Substring?
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            portText = after.hasPrefix(":") ? after.dropFirst() : nil
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
            portText = nil
        }
        guard !host.isEmpty else { throw ModelError(.invalidEndpoint, "model endpoint \(text): no host") }
        let port: UInt16
        if let portText {
            guard let value = UInt16(portText), value > 0 else {
                throw ModelError(.invalidEndpoint, "model endpoint \(text): port must be 1-65535")
            }
            port = value
        } else {
            port = 80
        }
        guard isLoopback(host) || allowedHosts.contains(host.lowercased()) else {
            throw ModelError(
                .endpointRefused,
                "model endpoint \(text): \(host) is not a unix socket or loopback address, and the site's configuration does not list it (add it under model_hosts: in AIRLOCK_HOME/site.yaml if it is an internal model host)"
            )
        }
        return .tcp(host: host, port: port, requestPath: path.isEmpty ? defaultRequestPath : String(path))
    }

    /// Whether `host` names this machine: `localhost`, 127.0.0.0/8 or `::1`.
    public static func isLoopback(_ host: String) -> Bool {
        let lower = host.lowercased()
        if lower == "localhost" || lower == "::1" { return true }
        let octets = lower.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The endpoint as written.
    public var description: String {
        switch self {
        case .unix(let path, let requestPath):
            requestPath == Self.defaultRequestPath ? "unix:\(path)" : "unix:\(path)#\(requestPath)"
        case .tcp(let host, let port, let requestPath):
            "http://\(host.contains(":") ? "[\(host)]" : host):\(port)\(requestPath)"
        case .script(let path): "script:\(path)"
        }
    }
}
