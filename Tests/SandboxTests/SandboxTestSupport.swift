import Foundation
import Testing

@testable import Sandbox

/// Helpers shared by the sandbox suites: every test runs the real sandbox.
enum Box {
    /// Runs a shell script confined, with optional extra spec changes.
    static func sh(
        _ script: String, limits: SandboxLimits = SandboxLimits(wallTimeSeconds: 20),
        mounts: [BindMount] = [], environment: [String: String] = ["PATH": SandboxSpec.defaultPath],
        configure: (inout SandboxSpec) -> Void = { _ in }
    ) async throws -> ExecutionRecord {
        var spec = SandboxSpec(
            program: "/bin/sh", arguments: ["-c", script], environment: environment, mounts: mounts, limits: limits)
        configure(&spec)
        return try await Sandbox().run(spec)
    }

    /// Runs a Python program confined.
    static func python(_ program: String, limits: SandboxLimits = SandboxLimits(wallTimeSeconds: 20)) async throws
        -> ExecutionRecord
    {
        try await Sandbox().run(
            SandboxSpec(program: "/usr/bin/python3", arguments: ["-c", program], limits: limits))
    }

    /// Runs `spec`, retrying a few times while execve reports ETXTBSY for a file just written.
    static func runRetryingBusyText(_ spec: SandboxSpec) async throws -> ExecutionRecord {
        for _ in 0..<20 {
            do {
                return try await Sandbox().run(spec)
            } catch {
                guard error.errno == ETXTBSY else { throw error }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await Sandbox().run(spec)
    }

    /// A fresh host directory the sandbox user may write to.
    static func writableDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-sbx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let identity = Sandbox().hostIdentity
        _ = chown(url.path, identity.uid, identity.gid)
        return url
    }

    /// Whether the host can run the sandbox at all (CI's machine can; a laptop without user
    /// namespaces skips with the reason).
    static var available: Bool {
        SandboxProbe.current.features.first { $0.name == "all-namespaces" }?.available ?? false
    }

    /// Whether the sandbox can hold memory in a cgroup here.
    static var cgroupsUsable: Bool { SandboxProbe.current.cgroup.usable }

    /// Names of the host's processes whose command line contains `marker`.
    static func hostProcesses(containing marker: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid -> String? in
            guard Int(pid) != nil,
                let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
            else { return nil }
            let cmdline = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return cmdline.contains(marker) ? "\(pid): \(cmdline)" : nil
        }
    }
}
