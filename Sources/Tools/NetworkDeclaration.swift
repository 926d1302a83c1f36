import Sandbox

/// The internal services a tool may reach (`network:`): TCP endpoints by site host name and
/// port, and the per-call bounds on what crosses. Each becomes a corridor for one call: the
/// sandbox keeps its own loopback-only network, and Airlock forwards the declared endpoints only.
/// An empty declaration (the default) is no network at all.
public struct NetworkDeclaration: Sendable, Hashable {
    /// `network.connect`: where the tool connects.
    public var connect: [NetworkEndpoint]
    /// `network.http`: HTTP services, each request held to its methods and paths (or, for
    /// `https://`, TLS passed through to the declared host and port).
    public var http: [HTTPEndpoint]
    /// `network.limits`: connections and bytes per call.
    public var limits: CorridorLimits

    /// Creates a declaration.
    public init(connect: [NetworkEndpoint] = [], http: [HTTPEndpoint] = [], limits: CorridorLimits = CorridorLimits()) {
        self.connect = connect
        self.http = http
        self.limits = limits
    }

    /// Every endpoint, TCP and HTTP, in declaration order (`connect` first).
    public var endpoints: [NetworkEndpoint] { connect + http.map(\.endpoint) }

    /// Most endpoints a manifest may declare (one corridor each).
    public static let maximumEndpoints = Corridor.maximumPerRun
}

/// One `network.http` entry: a service by URL, and what of it the tool may ask for.
public struct HTTPEndpoint: Sendable, Hashable {
    /// `http` (requests checked and recorded) or `https` (TLS passed through: the corridor sees
    /// bytes, so it cannot check methods or paths, and the manifest may not list any).
    public var scheme: String
    /// The host and port (80 or 443 when the URL names none).
    public var endpoint: NetworkEndpoint
    /// Allowed methods and path patterns (`http` only).
    public var rules: HTTPRules?

    /// Creates an entry.
    public init(scheme: String, endpoint: NetworkEndpoint, rules: HTTPRules?) {
        self.scheme = scheme
        self.endpoint = endpoint
        self.rules = rules
    }

    /// Splits `http://HOST[:PORT]` (nothing after the authority but an optional `/`) into its
    /// scheme, host and port; `nil` when it is not that.
    public static func parseURL(_ url: String) -> (scheme: String, host: String, port: UInt16)? {
        for (scheme, port) in [("http", UInt16(80)), ("https", UInt16(443))] {
            guard url.hasPrefix(scheme + "://") else { continue }
            var authority = url.dropFirst(scheme.count + 3)
            if authority.hasSuffix("/") { authority = authority.dropLast() }
            let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, let host = parts.first, NetworkEndpoint.isHostName(String(host)) else { return nil }
            if parts.count == 2 {
                guard let explicit = UInt16(parts[1]), explicit > 0 else { return nil }
                return (scheme, String(host), explicit)
            }
            return (scheme, String(host), port)
        }
        return nil
    }
}

/// One declared endpoint: a host name the site's `internal_hosts:` map resolves, and a TCP port.
public struct NetworkEndpoint: Sendable, Hashable, Codable {
    /// The host name as the tool uses it (never an address).
    public var host: String
    /// The TCP port.
    public var port: UInt16

    /// Creates an endpoint.
    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Whether `text` is an address an `internal_hosts:` entry may map a host to: numeric IPv4 or IPv6.
    public static func isAddress(_ text: String) -> Bool { Corridor.isNumericAddress(text) }

    /// `host:port`.
    public var text: String { "\(host):\(port)" }

    /// Whether `text` is a host name a manifest may declare: lowercase DNS labels (a-z, 0-9,
    /// '-', not at either end) joined by dots, at most 253 characters, not all digits and dots
    /// (an IPv4 address), and not `localhost`. Addresses are the site's to give, in
    /// `internal_hosts:`; a manifest names services.
    public static func isHostName(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 253, text != "localhost" else { return false }
        if text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }
        }
    }
}

extension NetworkDeclaration {
    /// The corridors of one call: each endpoint's host resolved through the site's
    /// `internal_hosts` (never system DNS), each distinct host given its own loopback address
    /// inside the sandbox.
    /// - Throws: ``ToolsError`` `corridor-unresolved` naming the first endpoint whose host the
    ///   site does not map.
    public func corridors(internalHosts: [String: String], tool: String) throws(ToolsError) -> [Corridor] {
        var inside: [String: String] = [:]
        var corridors: [Corridor] = []
        let entries =
            connect.enumerated().map { ("network.connect/\($0.offset)", $0.element, HTTPRules?.none) }
            + http.enumerated().map { ("network.http/\($0.offset)", $0.element.endpoint, $0.element.rules) }
        for (pointer, endpoint, rules) in entries {
            guard let address = internalHosts[endpoint.host] else {
                throw ToolsError(
                    .corridorUnresolved,
                    "\(tool): \(pointer) \(endpoint.text): host \(endpoint.host) is not in site.yaml internal_hosts (hosts resolve only through that map; add it there with the service's address)",
                    threats: ["asi:02", "maestro:L4"])
            }
            let local = inside[endpoint.host] ?? Corridor.insideAddress(forHostAt: inside.count)
            inside[endpoint.host] = local
            corridors.append(
                Corridor(host: endpoint.host, port: endpoint.port, address: address, insideAddress: local, http: rules))
        }
        return corridors
    }
}
