/// Where the console listens: a unix socket (the default, under the home's `run/`), or a numeric
/// address and port. A name is not resolved (there is no DNS to trust); a non-loopback address
/// must be listed by the site.
public enum ConsoleAddress: Sendable, Hashable, CustomStringConvertible {
    /// A unix socket at this path (mode 0600, in a directory of mode 0700).
    case unix(path: String)
    /// TCP on a numeric IPv4 or IPv6 address.
    case tcp(host: String, port: Int)

    /// Parses `--listen`: `127.0.0.1:8080`, `[::1]:8080`, `unix:/path/console.sock`.
    /// - Parameters:
    ///   - text: the value.
    ///   - allowed: the non-loopback addresses the site lists (`site.yaml` `console_listen:`).
    /// - Throws: ``ConsoleError`` `usage` naming what is wrong.
    public init(parsing text: String, allowed: [String]) throws(ConsoleError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/"), !path.utf8.contains(0), path.utf8.count < 100 else {
                throw ConsoleError(.usage, "--listen \(text): a unix socket needs an absolute path under 100 bytes")
            }
            self = .unix(path: path)
            return
        }
        let host: String
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ConsoleError(.usage, "--listen \(text): expected [IPV6]:PORT")
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ConsoleError(.usage, "--listen \(text): expected ADDRESS:PORT (127.0.0.1:8080) or unix:PATH")
            }
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ConsoleError(.usage, "--listen \(text): the port must be a number from 0 to 65535")
        }
        guard Self.isIPv4(host) || Self.isIPv6(host) else {
            throw ConsoleError(
                .usage, "--listen \(text): \(host) is not a numeric address (names are not resolved; use 127.0.0.1)")
        }
        guard Self.isLoopback(host) || allowed.contains(host) else {
            throw ConsoleError(
                .usage,
                "--listen \(text): \(host) is not a loopback address; the console listens beyond this host only on an address site.yaml lists under console_listen:"
            )
        }
        self = .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// Whether `host` is an IPv4 address of 127.0.0.0/8 or `::1`.
    public static func isLoopback(_ host: String) -> Bool {
        if isIPv4(host) { return host.split(separator: ".").first == "127" }
        return host == "::1" || host == "0:0:0:0:0:0:0:1"
    }

    static func isIPv4(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit)
                    && Int(part).map { $0 <= 255 } == true
            }
    }

    static func isIPv6(_ host: String) -> Bool {
        !host.isEmpty && host.contains(":") && host.count <= 39
            && host.allSatisfy { $0 == ":" || $0.isHexDigit && $0.isASCII }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
