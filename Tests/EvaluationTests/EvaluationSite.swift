import Foundation
import Runs
import Testing
import Tools

/// A temporary home set up as a site would (`tools/setup-sample-site`, the shipped tools
/// registered), and a scratch directory for suites and oracles written by a test.
struct EvaluationSite {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    let home: URL
    let scratch: URL
    var constructor: RunConstructor { RunConstructor(home: AirlockHome(root: home)) }

    static func directory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        return url
    }

    init() throws {
        home = try Self.directory("airlock-eval-home")
        scratch = try Self.directory("airlock-eval-scratch")
        let manifests = Self.repository.appendingPathComponent("manifests/tools")
        let files = try FileManager.default.contentsOfDirectory(atPath: manifests.path).filter { $0.hasSuffix(".yaml") }
        _ = try ToolRegistry(home: home).add(
            files.sorted().map { try ManifestFile.load(manifests.appendingPathComponent($0)) })
        let setup = Process()
        setup.executableURL = Self.repository.appendingPathComponent("tools/setup-sample-site")
        setup.environment = ["AIRLOCK_HOME": home.path, "PATH": "/usr/local/bin:/usr/bin:/bin"]
        setup.standardOutput = FileHandle.nullDevice
        try setup.run()
        setup.waitUntilExit()
        try #require(setup.terminationStatus == 0)
    }

    func remove() {
        try? FileManager.default.removeItem(at: home)
        try? FileManager.default.removeItem(at: scratch)
    }

    /// Writes `text` to `name` in the scratch directory.
    @discardableResult
    func file(_ name: String, _ text: String) throws -> URL {
        let url = scratch.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// The shipped workflow's absolute path.
    static func workflow(_ name: String) -> String {
        repository.appendingPathComponent("manifests/workflows/\(name).yaml").path
    }
}
