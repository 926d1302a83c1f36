import Foundation
import Testing

/// The real MCP peer of the MCP tests: the Python `mcp` SDK from the package index, in the venv
/// `tools/mcp-venv` makes (once per checkout; CI's fresh clone makes it on its first test).
enum MCPPeer {
    /// The venv's python, or `nil` (with the reason) when it cannot be made here.
    static let python: Result<String, PeerUnavailable> = {
        let process = Process()
        process.executableURL = SampleSite.root.appendingPathComponent("tools/mcp-venv")
        process.environment = ProcessInfo.processInfo.environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do {
            try process.run()
        } catch {
            return .failure(PeerUnavailable(reason: "tools/mcp-venv did not start: \(error)"))
        }
        let path = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problem = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(PeerUnavailable(reason: "tools/mcp-venv failed: \(problem)"))
        }
        return .success(path.trimmingCharacters(in: .whitespacesAndNewlines))
    }()

    /// Why the peer is missing.
    struct PeerUnavailable: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    /// Whether the MCP tests run here: always under CI (where a missing peer is a failure).
    static var available: Bool {
        if case .success = python { return true }
        return ProcessInfo.processInfo.environment["CI"] == "true"
    }

    /// A peer script in Tests/MCPPeers/.
    static func script(_ name: String) -> String {
        SampleSite.root.appendingPathComponent("Tests/MCPPeers/\(name)").path
    }
}
