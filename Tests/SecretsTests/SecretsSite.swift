import AirlockCore
import Foundation
import Tools

@testable import Secrets

/// A temporary AIRLOCK_HOME with a secret store, a tool registry and a private tmpfs root for
/// per-call secret files: what the suites that run tools with secrets through the real sandbox
/// share. Removed when released.
final class SecretsSite {
    let home: URL
    let store: SecretStore
    let registry: ToolRegistry
    /// A private root for the per-call directories, so that what is left behind is this site's.
    let secretsRoot: String

    init(_ label: String) throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        store = SecretStore(home: home)
        registry = ToolRegistry(home: home)
        secretsRoot = "/dev/shm/airlock-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(
            atPath: secretsRoot, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o711])
    }

    deinit {
        try? FileManager.default.removeItem(atPath: secretsRoot)
        try? FileManager.default.removeItem(at: home)
    }

    /// Registers `name` running the shell `script`, with `extra` YAML (secrets, output) appended
    /// to its manifest.
    func register(_ name: String, script: String, extra: String) throws -> RegisteredTool {
        let dir = home.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let program = dir.appendingPathComponent("tool.sh")
        try Data(script.utf8).write(to: program)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: program.path)
        let manifest = dir.appendingPathComponent("manifest.yaml")
        try """
        name: \(name)
        version: 1.0.0
        description: A tool that shows what it was given.
        owner: tests@example.org
        executable: {path: tool.sh, sha256: \(SHA256.hex(Array(script.utf8)))}
        input: {type: object, properties: {}}
        risk: low
        \(extra)
        """.write(to: manifest, atomically: true, encoding: .utf8)
        _ = try registry.add([try ManifestFile.load(manifest)])
        return try registry.resolve(name)
    }

    /// A broker over the store, with its keys in the site.
    func broker() throws -> SecretBroker {
        try SecretBroker(store: store, keysDirectory: home.appendingPathComponent("keys"))
    }
}
