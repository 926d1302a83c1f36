import AirlockCore
import Sandbox

extension ManifestDecoder {
    /// The fields of `network:`.
    static let networkFields = ["connect", "limits"]
    /// The fields of `network.limits`.
    static let networkLimitFields = ["connections", "bytes"]
    /// The most `network.limits.connections` a manifest may ask for per call.
    static let maximumConnections = 1024
    /// The most `network.limits.bytes` a manifest may ask for per call: 4 GiB.
    static let maximumNetworkBytes: UInt64 = 4 << 30

    /// Reads `network:`: `connect: [{host, port}]` and optional `limits: {connections, bytes}`.
    static func network(_ value: JSONValue?, reader r: inout ManifestReader) -> NetworkDeclaration {
        var declaration = NetworkDeclaration()
        guard let m = r.object(value, "/network", allowed: networkFields, required: [], optional: true) else {
            return declaration
        }
        let entries = r.array(m["connect"], "/network/connect")
        if entries.count > NetworkDeclaration.maximumEndpoints {
            r.problem(
                "/network/connect",
                "declares \(entries.count) endpoints; at most \(NetworkDeclaration.maximumEndpoints) are allowed")
        }
        for (index, item) in entries.enumerated() {
            let pointer = "/network/connect/\(index)"
            guard let e = r.object(item, pointer, allowed: ["host", "port"], required: ["host", "port"]) else {
                continue
            }
            let host = r.string(e, pointer, "host") {
                NetworkEndpoint.isHostName($0)
                    ? nil
                    : "must be a host name from site.yaml internal_hosts (lowercase labels of a-z, 0-9 and '-' joined by dots), not an address or localhost"
            }
            let port = r.number(e, pointer, "port", range: 1...65535, integer: true).map { UInt16($0) }
            guard let host, let port else { continue }
            let endpoint = NetworkEndpoint(host: host, port: port)
            if declaration.connect.contains(endpoint) {
                r.problem(pointer, "\(endpoint.text) is declared twice")
            } else {
                declaration.connect.append(endpoint)
            }
        }
        if let limits = r.object(m["limits"], "/network/limits", allowed: networkLimitFields, required: []) {
            if let n = r.number(
                limits, "/network/limits", "connections", range: 1...Double(maximumConnections), integer: true)
            {
                declaration.limits.maxConnections = Int(n)
            }
            if let bytes = r.size(limits, "/network/limits", "bytes", range: 1...maximumNetworkBytes) {
                declaration.limits.maxBytes = bytes
            }
            if declaration.connect.isEmpty {
                r.problem("/network/limits", "limits without any network.connect endpoint")
            }
        }
        return declaration
    }
}
