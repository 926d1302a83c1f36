import Foundation
import Model
import Runs

extension Doctor {
    /// **model-endpoint**: the endpoint `airlock run` would use (the embedded model's unix socket,
    /// or the one `--model` names) is a unix socket, loopback, or a host `model_hosts:` lists.
    public func modelEndpoint() -> DoctorCheck {
        let id = "model-endpoint"
        let title = "the model endpoint stays on this machine or a listed internal host"
        let site = configuration.siteFile
        let hosts: [String]
        do {
            hosts = try SiteConfiguration.load(site).modelHosts
        } catch {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: "cannot read the site's configuration",
                evidence: ["\(site.path): \(error)"],
                remedy: "fix \(site.path) (its fields: \(SiteConfiguration.keys.joined(separator: ", ")))")
        }
        var evidence = [
            FileManager.default.fileExists(atPath: site.path)
                ? "model_hosts in \(site.path): \(hosts.isEmpty ? "none" : hosts.joined(separator: ", "))"
                : "no \(site.path): no internal model host is listed"
        ]
        let text = configuration.modelEndpoint ?? "unix:\(configuration.embeddedSocket.path)"
        evidence.insert(
            configuration.modelEndpoint == nil
                ? "endpoint: the embedded model's socket (what airlock run uses without --model)"
                : "endpoint: given with --model", at: 0)
        let endpoint: ModelEndpoint
        do {
            endpoint = try ModelEndpoint.parse(text, allowedHosts: hosts)
        } catch {
            let refused = error.code == .endpointRefused
            return DoctorCheck(
                id: id, title: title, status: .fail,
                summary: refused
                    ? "\(text) is a remote endpoint (\(error.code.rawValue))" : "\(text) is not an endpoint",
                evidence: evidence + ["\(error)"],
                remedy: refused
                    ? "use the embedded model (airlock model install), a unix socket, a loopback address, or list the internal host under model_hosts: in \(site.path)"
                    : "give unix:PATH, http://HOST:PORT[/PATH] or script:FILE")
        }
        let reason: String
        switch endpoint {
        case .unix(let path, _):
            reason = "a unix socket"
            evidence.append(Self.describeSocket(path))
        case .tcp(let host, _, _):
            reason = ModelEndpoint.isLoopback(host) ? "loopback" : "\(host) is listed under model_hosts"
        case .script(let path):
            reason = "a scripted model file; no network"
            evidence.append("script: \(path)")
        }
        return DoctorCheck(id: id, title: title, status: .pass, summary: "\(endpoint) (\(reason))", evidence: evidence)
    }

    /// What is at a socket path now: a socket, something else, or nothing yet.
    static func describeSocket(_ path: String) -> String {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let type = attributes[.type] as? FileAttributeType
        else { return "\(path): not there now (the server creates it when it starts)" }
        return type == .typeSocket ? "\(path): a unix socket" : "\(path): exists but is not a socket (\(type.rawValue))"
    }
}
