import AirlockCore
import Sandbox

extension ManifestDecoder {
    /// The fields of `network:`.
    static let networkFields = ["connect", "http", "limits"]
    /// The fields of one `network.http` entry.
    static let httpFields = ["url", "methods", "paths"]
    /// The methods a `network.http` entry may allow.
    static let httpMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    /// The fields of `network.limits`.
    static let networkLimitFields = ["connections", "bytes"]
    /// The most `network.limits.connections` a manifest may ask for per call.
    static let maximumConnections = 1024
    /// The most `network.limits.bytes` a manifest may ask for per call: 4 GiB.
    static let maximumNetworkBytes: UInt64 = 4 << 30

    /// Reads `network:`: `connect: [{host, port}]` and optional `limits: {connections, bytes}`.
    static func network(_ value: JSONValue?, reader r: inout DocumentReader) -> NetworkDeclaration {
        var declaration = NetworkDeclaration()
        guard let m = r.object(value, "/network", allowed: networkFields, required: []) else {
            return declaration
        }
        let entries = r.array(m["connect"], "/network/connect")
        if entries.count > NetworkDeclaration.maximumEndpoints {
            r.fail(
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
                r.fail(pointer, "\(endpoint.text) is declared twice")
            } else {
                declaration.connect.append(endpoint)
            }
        }
        for (index, item) in r.array(m["http"], "/network/http").enumerated() {
            let pointer = "/network/http/\(index)"
            guard let e = r.object(item, pointer, allowed: httpFields, required: ["url"]) else { continue }
            guard
                let url = r.string(
                    e, pointer, "url",
                    check: {
                        HTTPEndpoint.parseURL($0) == nil
                            ? "must be http://HOST[:PORT] or https://HOST[:PORT], HOST a name from site.yaml internal_hosts (paths go under paths)"
                            : nil
                    }), let parsed = HTTPEndpoint.parseURL(url)
            else { continue }
            let endpoint = NetworkEndpoint(host: parsed.host, port: parsed.port)
            let methods = r.strings(e, pointer, "methods")
            let paths = r.strings(e, pointer, "paths")
            var rules: HTTPRules?
            if parsed.scheme == "https" {
                for key in ["methods", "paths"] where e[key] != nil {
                    r.fail(
                        JSONPointer.appending(pointer, key),
                        "cannot be enforced on https: the corridor passes TLS through to \(endpoint.text) unread (declare http:// to have requests checked)"
                    )
                }
            } else {
                if methods.isEmpty { r.fail(JSONPointer.appending(pointer, "methods"), "list at least one method") }
                if paths.isEmpty { r.fail(JSONPointer.appending(pointer, "paths"), "list at least one path") }
                for (n, method) in methods.enumerated() where !httpMethods.contains(method) {
                    r.fail(
                        "\(pointer)/methods/\(n)",
                        "unknown method \"\(method)\" (allowed: \(httpMethods.joined(separator: ", ")))")
                }
                for (n, path) in paths.enumerated() where !HTTPRules.isPattern(path) {
                    r.fail(
                        "\(pointer)/paths/\(n)",
                        "must be an absolute path of literal segments, * (one segment) or a last ** (the rest); no %, ?, #, empty, . or .. segments"
                    )
                }
                rules = HTTPRules(methods: methods, paths: paths)
            }
            if declaration.endpoints.contains(endpoint) {
                r.fail(pointer, "\(endpoint.text) is declared twice")
            } else {
                declaration.http.append(HTTPEndpoint(scheme: parsed.scheme, endpoint: endpoint, rules: rules))
            }
        }
        if declaration.endpoints.count > NetworkDeclaration.maximumEndpoints {
            r.fail(
                "/network",
                "declares \(declaration.endpoints.count) endpoints; at most \(NetworkDeclaration.maximumEndpoints) are allowed"
            )
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
            if declaration.endpoints.isEmpty {
                r.fail("/network/limits", "limits without any network.connect or network.http endpoint")
            }
        }
        return declaration
    }
}
