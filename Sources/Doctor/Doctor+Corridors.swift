import Foundation
import Runs
import Tools

extension Doctor {
    /// **corridors**: every internal endpoint a registered tool may reach, each with the
    /// address the site's `internal_hosts:` gives it (the only way its host resolves). Nothing
    /// declared is a `skip`; a host the site does not map is a `warn` (that tool's calls are
    /// refused until it is mapped), a site file that cannot be read a `fail`.
    public func corridors() -> DoctorCheck {
        let id = "corridors"
        let title = "every internal endpoint a tool may reach, and where the site sends it"
        let registry = ToolRegistry(home: configuration.registryHome)
        let tools =
            FileManager.default.fileExists(atPath: registry.databaseURL.path) ? (try? registry.list()) ?? [] : []
        let declaring = tools.filter { !$0.manifest.network.endpoints.isEmpty }
        guard !declaring.isEmpty else {
            return DoctorCheck(
                id: id, title: title, status: .skip,
                summary: "no registered tool declares network.connect or network.http",
                evidence: ["\(tools.count) registered tool(s), none with a corridor: no tool has any network"])
        }
        let hosts: [String: String]
        do {
            hosts = try SiteConfiguration.load(configuration.siteFile).internalHosts
        } catch {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: "cannot read the site's configuration",
                evidence: ["\(configuration.siteFile.path): \(error)"],
                remedy:
                    "fix \(configuration.siteFile.path) (its fields: \(SiteConfiguration.keys.joined(separator: ", ")))"
            )
        }
        var evidence: [String] = []
        var unresolved: [String] = []
        var count = 0
        for tool in declaring {
            let limits = tool.manifest.network.limits
            let kinds =
                tool.manifest.network.connect.map { ($0, "tcp") }
                + tool.manifest.network.http.map { entry in
                    (
                        entry.endpoint,
                        entry.rules.map {
                            "http \($0.methods.joined(separator: ",")) \($0.paths.joined(separator: " "))"
                        }
                            ?? "https, TLS passed through"
                    )
                }
            for (endpoint, kind) in kinds {
                count += 1
                if let address = hosts[endpoint.host] {
                    evidence.append(
                        "\(tool.reference): \(endpoint.text) → \(address):\(endpoint.port), \(kind) (at most \(limits.maxConnections) connections, \(limits.maxBytes) bytes per call)"
                    )
                } else {
                    unresolved.append("\(tool.reference) \(endpoint.text)")
                    evidence.append("\(tool.reference): \(endpoint.text) → not in internal_hosts: refused")
                }
            }
        }
        guard unresolved.isEmpty else {
            return DoctorCheck(
                id: id, title: title, status: .warn,
                summary:
                    "\(unresolved.count) of \(count) corridors have a host the site does not map: \(unresolved.joined(separator: ", "))",
                evidence: evidence,
                remedy:
                    "map each host under internal_hosts in \(configuration.siteFile.path) to the service's address, or retire the tool; until then its calls are refused"
            )
        }
        return DoctorCheck(
            id: id, title: title, status: .pass,
            summary: "\(count) corridor(s) of \(declaring.count) tool(s), each to a site-mapped address",
            evidence: evidence)
    }
}
