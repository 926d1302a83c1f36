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
        "tool-artefacts", "key-permissions", "trace-verifies", "sandbox-layers",
    ]

    /// Runs every check in order.
    public func run() async -> DoctorReport {
        DoctorReport(checks: [
            modelEndpoint(), modelServerNetwork(), await toolNetwork(), proxyTelemetryEnvironment(),
            modelArtefacts(), toolArtefacts(), keyPermissions(), traceVerifies(), sandboxLayers(),
        ])
    }
}
