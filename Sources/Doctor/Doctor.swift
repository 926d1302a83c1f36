import Foundation

/// `airlock doctor`: the checks a site runs, and an examiner reads, to show the air gap holds.
///
/// Every check returns a ``DoctorCheck`` value; nothing here throws. A check that cannot look at
/// what it must (an unreadable file, a probe that cannot start) fails and says why: an air gap
/// that cannot be shown is not reported as holding. See docs/doctor.md.
public struct Doctor: Sendable {
    /// What to look at.
    public var configuration: DoctorConfiguration

    /// Creates a doctor for `configuration`.
    public init(configuration: DoctorConfiguration) {
        self.configuration = configuration
    }

    /// The check identifiers, in the order ``run()`` runs them.
    public static let checkIDs = [
        "model-endpoint", "model-server-network", "tool-network", "proxy-telemetry-env", "model-artefacts",
        "tool-artefacts", "corridors", "key-permissions", "trace-verifies", "trace-grants",
        "sandbox-layers",
    ]

    /// The threat tags (docs/threats.md) each check answers.
    public static let threats: [String: [String]] = [
        "model-endpoint": ["maestro:L1"], "model-server-network": ["maestro:L1", "maestro:L4"],
        "tool-network": ["maestro:L4", "asi:05"], "proxy-telemetry-env": ["nhi:08"],
        "model-artefacts": ["maestro:L1", "asi:04"], "tool-artefacts": ["maestro:L4", "maestro:L7", "asi:04"],
        "corridors": ["maestro:L4", "asi:02"], "key-permissions": ["nhi:02", "nhi:07"],
        "trace-verifies": ["maestro:L5"], "trace-grants": ["maestro:L5"], "sandbox-layers": ["maestro:L4"],
    ]

    /// Runs every check in order.
    public func run() async -> DoctorReport {
        DoctorReport(checks: [
            modelEndpoint(), modelServerNetwork(), await toolNetwork(), proxyTelemetryEnvironment(),
            modelArtefacts(), toolArtefacts(), corridors(), keyPermissions(), traceVerifies(), traceGrants(),
            sandboxLayers(),
        ])
    }
}
