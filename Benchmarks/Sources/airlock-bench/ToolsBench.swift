import AirlockCore
import Foundation
import Sandbox
import Tools

/// What Tools costs per call before the sandbox starts (decode, validate, render, resolve,
/// prepare with the digest re-check) and a whole sandboxed run of a trivial tool: figures for
/// information (no anchor).
struct ToolsBench {
    /// Repetitions of each in-process measurement.
    var iterations = 2000
    /// Whole sandboxed runs.
    var sandboxRuns = 20

    static let script = "#!/bin/sh\nexit 0\n"

    static func manifest(sha256: String) -> String {
        """
        name: bench.noop
        version: 1.0.0
        description: Does nothing, measurably.
        owner: bench
        executable: {path: noop.sh, sha256: \(sha256)}
        argv:
          - {option: --max, arg: max}
          - {flag: --all, arg: all}
          - "--"
          - {arg: paths}
        input:
          type: object
          additionalProperties: false
          required: [paths]
          properties:
            paths: {type: array, maxItems: 16, items: {type: string, minLength: 1, pattern: "^[^/]"}}
            max: {type: integer, minimum: 1, maximum: 1000}
            all: {type: boolean}
            mode: {anyOf: [{const: fast}, {const: thorough}]}
        filesystem: {readOnly: ["${workspace}"]}
        risk: low
        """
    }

    func run(scratch: URL) async throws -> [Row] {
        let fm = FileManager.default
        let directory = scratch.appendingPathComponent("tools-\(UUID().uuidString)")
        try fm.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        defer { try? fm.removeItem(at: directory) }
        let executable = directory.appendingPathComponent("noop.sh")
        let manifestURL = directory.appendingPathComponent("bench.noop.yaml")
        let workspace = directory.appendingPathComponent("workspace")
        try fm.createDirectory(at: workspace, withIntermediateDirectories: true)
        // The sandbox's unprivileged user must pass through the home to the stored executable.
        try fm.createDirectory(
            at: directory.appendingPathComponent("home"), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o711])
        try Data(Self.script.utf8).write(to: executable)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: executable.path)
        let text = Self.manifest(sha256: SHA256.hex(Array(Self.script.utf8)))
        try Data(text.utf8).write(to: manifestURL)
        let registry = ToolRegistry(home: directory.appendingPathComponent("home"))
        _ = try registry.add([ManifestFile.load(manifestURL)])
        let tool = try registry.resolve("bench.noop")
        let arguments: JSONValue = ["paths": ["a.log", "b.log", "-c"], "max": 50, "all": true, "mode": "fast"]
        let context = ToolRunContext(workspace: workspace)
        let runner = ToolRunner(registry: registry, sandbox: Sandbox())

        func median(_ count: Int, _ body: () throws -> Void) rethrows -> Double {
            var samples: [Double] = []
            for _ in 0..<max(count, 1) {
                let start = Stats.now()
                try body()
                samples.append(Stats.since(start) / 1000)
            }
            return Stats.median(samples)
        }
        let decode = try median(iterations / 4) { _ = try ManifestDecoder().decode(text: text) }
        let validate = median(iterations) { _ = tool.manifest.input.validate(arguments) }
        let render = try median(iterations) { _ = try ArgvElement.render(tool.manifest.argv, arguments: arguments) }
        let resolve = try median(iterations / 4) { _ = try registry.resolve("bench.noop") }
        let prepare = try median(iterations) { _ = try runner.prepare(tool, arguments: arguments, context: context) }
        var runs: [Double] = []
        for _ in 0..<sandboxRuns {
            let start = Stats.now()
            _ = try await runner.run(tool, arguments: arguments, context: context)
            runs.append(Stats.since(start) / 1e6)
        }
        func info(_ id: String, _ what: String, _ figure: Double, _ unit: String, _ note: String = "") -> Row {
            Row(
                id: id, what: what, figure: figure, unit: unit, anchor: nil, anchorName: "—", comparison: .none,
                note: note)
        }
        return [
            info("tools.decode", "manifest decode (schema compiled)", decode, "µs"),
            info("tools.validate", "argument validation", validate, "µs"),
            info("tools.render", "argv render", render, "µs"),
            info("tools.resolve", "registry resolve", resolve, "µs"),
            info("tools.prepare", "call prepare (validate, render, mounts, digest re-check)", prepare, "µs"),
            info(
                "tools.run", "sandboxed run of a trivial tool (median)", Stats.median(runs), "ms", "\(sandboxRuns) runs"
            ),
        ]
    }
}
