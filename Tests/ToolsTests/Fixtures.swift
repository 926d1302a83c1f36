import AirlockCore
import Foundation
import Sandbox
import Testing

@testable import Tools

/// Temporary homes, manifests and executables for the Tools tests, all on the real file system.
enum Fixtures {
    /// The repository root (for the shipped manifests, tools and sample data).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// A fresh directory, traversable by the sandbox's unprivileged user.
    static func directory(_ label: String = "airlock-tools") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        return url
    }

    /// A registry in a fresh `AIRLOCK_HOME`.
    static func registry() throws -> ToolRegistry {
        ToolRegistry(home: try directory("airlock-home"))
    }

    /// Writes `text` to `directory/name` and returns its URL.
    @discardableResult
    static func write(_ text: String, to directory: URL, _ name: String, mode: Int = 0o644) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        return url
    }

    static let script = "#!/bin/sh\necho \"$@\"\n"

    /// A small valid manifest for `name` pinned to `script`, with `extra` YAML appended.
    static func manifest(
        name: String = "demo.echo", version: String = "1.0.0", sha256: String = SHA256.hex(Array(script.utf8)),
        extra: String = ""
    ) -> String {
        """
        name: \(name)
        version: \(version)
        description: Echo the words back.
        owner: tests@example.org
        executable:
          path: echo.sh
          sha256: \(sha256)
        argv:
          - {option: --count, arg: count}
          - "--"
          - {arg: words}
        input:
          type: object
          additionalProperties: false
          required: [words]
          properties:
            words: {type: array, items: {type: string}, maxItems: 8}
            count: {type: integer, minimum: 1}
        risk: low
        \(extra)
        """
    }

    /// A directory holding `echo.sh` and `manifest.yaml`.
    static func manifestDirectory(_ manifestText: String = manifest()) throws -> (URL, URL) {
        let dir = try directory("airlock-manifest")
        try write(script, to: dir, "echo.sh", mode: 0o755)
        return (dir, try write(manifestText, to: dir, "manifest.yaml"))
    }

    /// Decodes manifest text or fails the test with every problem.
    static func decode(_ text: String) throws -> ToolManifest {
        try ManifestDecoder().decode(text: text)
    }

    /// The problems a manifest text produces (empty when it decodes).
    static func problems(_ text: String) -> [FieldProblem] {
        do {
            _ = try ManifestDecoder().decode(text: text)
            return []
        } catch {
            return error.problems
        }
    }
}

/// A sandbox stand-in that records the spec it was given and answers with a fixed record: for
/// checking what Tools asks of the sandbox. The shipped tools also run through the real one.
final class RecordingSandbox: SandboxRunning, @unchecked Sendable {
    private let lock = NSLock()
    private var specs: [SandboxSpec] = []
    let stdout: String

    init(stdout: String = "{}") { self.stdout = stdout }

    var lastSpec: SandboxSpec? { lock.withLock { specs.last } }

    var hostIdentity: (uid: UInt32, gid: UInt32) { Sandbox().hostIdentity }

    func run(_ spec: SandboxSpec) async throws(SandboxError) -> ExecutionRecord {
        lock.withLock { specs.append(spec) }
        // Built from the record's stable JSON form: its memberwise initialiser is internal to Sandbox.
        let argv = JSONValue.array(([spec.program] + spec.arguments).map(JSONValue.string)).canonicalString
        let out = JSONValue.string(stdout).canonicalString
        let json = """
            {"schema":1,"argv":\(argv),"termination":{"exitCode":0},"timedOut":false,"oomKilled":false,
             "wallSeconds":0,"userCPUSeconds":0,"systemCPUSeconds":0,"peakMemoryBytes":0,
             "stdout":{"text":\(out),"totalBytes":\(stdout.utf8.count),"truncated":false,"keptBytes":\(stdout.utf8.count)},
             "stderr":{"text":"","totalBytes":0,"truncated":false,"keptBytes":0},"deniedSyscalls":[],
             "confinement":{"namespaces":[],"networkNamespace":"new","uidMap":"","gidMap":"","uid":0,"gid":0,"mounts":[],"seccompBPFSHA256":"",
              "seccompDenyAction":"","seccompInstructions":0,"landlockABI":0,"capabilities":"","noNewPrivs":true,
              "limits":{"wallTimeSeconds":0,"maxProcesses":0,"fileSizeBytes":0,"openFiles":0,"outputBytesPerStream":0,
                        "tmpSizeBytes":0,"enforcement":"none"},
              "cgroupVersion":"none","degradedLayers":[]}}
            """
        do {
            return try JSONDecoder().decode(ExecutionRecord.self, from: Data(json.utf8))
        } catch {
            throw SandboxError(.supervisionFailed, "RecordingSandbox: \(error)")
        }
    }
}
