import Sandbox

extension Doctor {
    /// **sandbox-layers**: every confinement layer is available on this host.
    public func sandboxLayers() -> DoctorCheck {
        let id = "sandbox-layers"
        let title = "every confinement layer is available on this host"
        let probe = SandboxProbe.current
        let evidence = probe.features.map { feature in
            "\(feature.name): \(feature.available ? "yes" : "NO")\(feature.isLayer ? "" : " (speed only)") — \(feature.detail)"
        }
        let missing = probe.features.filter { $0.isLayer && !$0.available }
        guard missing.isEmpty else {
            return DoctorCheck(
                id: id, title: title, status: .fail,
                summary: "missing: " + missing.map { "\($0.name) (\($0.detail))" }.joined(separator: "; "),
                evidence: evidence,
                remedy:
                    "enable them on this host (see docs/sandbox.md); tools refuse to run without a layer unless a degraded run is explicitly allowed"
            )
        }
        let layers = probe.features.filter(\.isLayer)
        return DoctorCheck(
            id: id, title: title, status: .pass,
            summary: "\(layers.count) layers available: \(layers.map(\.name).joined(separator: ", "))",
            evidence: evidence)
    }
}
