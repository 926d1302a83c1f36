import AirlockCore
import Foundation

/// The tools benchmark behind `airlock bench tools`: the per-call costs Tools adds before the
/// sandbox starts (decode, validate, render, resolve, re-verify the digest), and a full sandboxed run.
public enum ToolsBenchmark {
    /// The figures of one benchmark run (microseconds per operation; medians).
    public struct Result: Sendable {
        /// Decoding a manifest from YAML text (including compiling its schema).
        public var decodeMicros: Double
        /// Validating one call's arguments against the input schema.
        public var validateMicros: Double
        /// Rendering argv from validated arguments.
        public var renderMicros: Double
        /// Resolving `NAME` in the registry (SQLite read and manifest decode).
        public var resolveMicros: Double
        /// Preparing a call: validate, render, resolve mounts, re-hash the executable.
        public var prepareMicros: Double
        /// One complete run of a trivial tool in the real sandbox, or `nil` when not measured.
        public var sandboxRunMicros: Double?

        /// The figures as lines.
        public var report: String {
            func f(_ d: Double) -> String { String(Double(Int((d * 10).rounded())) / 10) }
            return """
                manifest decode:   \(f(decodeMicros)) us
                argument validate: \(f(validateMicros)) us
                argv render:       \(f(renderMicros)) us
                registry resolve:  \(f(resolveMicros)) us
                call prepare:      \(f(prepareMicros)) us (validate + render + mounts + digest re-check)
                sandboxed run:     \(sandboxRunMicros.map { f($0 / 1000) + " ms (trivial tool, end to end)" } ?? "not measured")
                """
        }
    }

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

    /// Runs the benchmark with a fresh registry under `directory`.
    /// - Parameters:
    ///   - directory: a scratch directory (a registry and a workspace are created in it).
    ///   - iterations: repetitions of each in-process measurement (default 2000).
    ///   - sandboxRuns: complete sandboxed runs (default 20; 0 skips them).
    ///   - sandbox: what runs the tool.
    /// - Throws: ``ToolsError`` when a step fails.
    public static func run(
        directory: URL, iterations: Int = 2000, sandboxRuns: Int = 20, sandbox: any SandboxRunning
    ) async throws(ToolsError) -> Result {
        let fm = FileManager.default
        let executable = directory.appendingPathComponent("noop.sh")
        let manifestURL = directory.appendingPathComponent("bench.noop.yaml")
        let workspace = directory.appendingPathComponent("workspace")
        do {
            try fm.createDirectory(at: workspace, withIntermediateDirectories: true)
            // The sandbox's unprivileged user must pass through the home to the stored executable.
            try fm.createDirectory(
                at: directory.appendingPathComponent("home"), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o711])
            try Data(script.utf8).write(to: executable)
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: executable.path)
            try Data(manifest(sha256: SHA256.hex(Array(script.utf8))).utf8).write(to: manifestURL)
        } catch {
            throw ToolsError(.io, "bench: cannot prepare \(directory.path)", cause: "\(error)")
        }
        let text = manifest(sha256: SHA256.hex(Array(script.utf8)))
        let registry = ToolRegistry(home: directory.appendingPathComponent("home"))
        _ = try registry.add([ManifestFile.load(manifestURL)])
        let tool = try registry.resolve("bench.noop")
        let arguments: JSONValue = ["paths": ["a.log", "b.log", "-c"], "max": 50, "all": true, "mode": "fast"]
        let context = ToolRunContext(workspace: workspace)
        let runner = ToolRunner(registry: registry, sandbox: sandbox)

        var result = Result(
            decodeMicros: try median(iterations / 4) { () throws(ToolsError) in
                _ = try ManifestDecoder().decode(text: text)
            },
            validateMicros: try median(iterations) { () throws(ToolsError) in
                _ = tool.manifest.input.validate(arguments)
            },
            renderMicros: try median(iterations) { () throws(ToolsError) in
                _ = try ArgvElement.render(tool.manifest.argv, arguments: arguments)
            },
            resolveMicros: try median(iterations / 4) { () throws(ToolsError) in _ = try registry.resolve("bench.noop")
            },
            prepareMicros: try median(iterations) { () throws(ToolsError) in
                _ = try runner.prepare(tool, arguments: arguments, context: context)
            })
        if sandboxRuns > 0 {
            var samples: [Double] = []
            for _ in 0..<sandboxRuns {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try await runner.run(tool, arguments: arguments, context: context)
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
            }
            result.sandboxRunMicros = samples.sorted()[samples.count / 2]
        }
        return result
    }

    private static func median(_ count: Int, _ body: () throws(ToolsError) -> Void) throws(ToolsError) -> Double {
        var samples: [Double] = []
        samples.reserveCapacity(max(count, 1))
        for _ in 0..<max(count, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
        }
        return samples.sorted()[samples.count / 2]
    }
}
