import AirlockCore
import Foundation
import Runs
import Sandbox
import Trace

/// `airlock-test-helper`: what the CLI tests need a separate process for and a user never runs,
/// kept out of the `airlock` executable.
///
/// - `append-loop DB`: appends runs to the trace database DB forever (batches, blobs, a checkpoint
///   every 7 events) with the home's trace key, until killed: the crash test kills it with SIGKILL.
/// - `sandbox-leak-check N`: runs N sandboxes (with and without a cgroup, one in three timing out)
///   and exits 1 if a descriptor or a child of this process outlives them.
@main
enum TestHelper {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            switch (arguments.first, arguments.count) {
            case ("append-loop", 2):
                let key = try TraceSigningKey.loadOrCreate(directory: try AirlockHome.resolve().keys)
                try appendLoop(store: try TraceStore(path: arguments[1]), key: key)
            case ("sandbox-leak-check", 2):
                guard let runs = Int(arguments[1]), runs > 0 else { fail("sandbox-leak-check N: N must be positive") }
                exit(try checkLeaks(runs: runs) ? 0 : 1)
            default:
                fail("usage: airlock-test-helper append-loop DB | sandbox-leak-check N")
            }
        } catch {
            fail("airlock-test-helper: \(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }

    /// A `tool.executed`-shaped payload with a `bytes`-long output.
    static func payload(_ n: Int, bytes: Int) -> JSONValue {
        [
            "call_id": .string("call-\(n)"), "tool": "grep",
            "record": [
                "argv": ["grep", "-r", "needle", "/workspace"], "termination": ["exitCode": 0],
                "wallSeconds": 0.012,
                "stdout": [
                    "text": .string(String(repeating: "x", count: bytes)), "totalBytes": .integer(Int64(bytes)),
                ],
                "confinement": ["namespaces": ["user", "mount", "pid", "net", "ipc", "uts"], "degradedLayers": []],
            ],
        ]
    }

    /// Appends runs of `runLength` events (every fifth append a batch of three), each finished,
    /// with a checkpoint at most every `checkpointInterval` events and outputs above 256 bytes as blobs.
    static func appendLoop(
        store: TraceStore, key: TraceSigningKey, runLength: Int = 40, checkpointInterval: Int = 7
    ) throws(TraceError) -> Never {
        let options = TraceRecorderOptions(checkpointInterval: checkpointInterval, blobThreshold: 256)
        while true {
            let recorder = try RunRecorder(
                store: store, key: key, runID: "loop-\(UUID().uuidString.lowercased())",
                started: ["workflow": "append-loop", "principal": "crash-test"], options: options)
            for i in 0..<runLength {
                if i % 5 == 4 {
                    try recorder.append(
                        batch: (0..<3).map { TraceEventDraft(.toolExecuted, payload(i + $0, bytes: 300)) })
                } else {
                    try recorder.append(.toolExecuted, payload(i, bytes: 64))
                }
            }
            _ = try recorder.finish(["status": "succeeded"])
        }
    }

    /// Runs sandboxes and compares this process's descriptors and children before and after:
    /// the "nothing of the run survives" check (docs/sandbox.md).
    static func checkLeaks(runs: Int) throws -> Bool {
        func descriptors() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).sorted()
        }
        _ = try Sandbox().runBlocking(SandboxSpec(program: "/bin/true"))  // warm-up: caches, lazily opened files
        Sandbox.discardPrespawnedChildren()
        let before = descriptors()
        for n in 0..<runs {
            var spec = SandboxSpec(
                program: "/bin/sh", arguments: ["-c", "echo out; echo err >&2; sleep \(n % 3 == 0 ? 5 : 0)"])
            spec.limits.wallTimeSeconds = n % 3 == 0 ? 0.2 : 10
            if n % 2 == 0, SandboxProbe.current.cgroup.usable { spec.limits.memoryBytes = 256 << 20 }
            _ = try Sandbox().runBlocking(spec)
        }
        // Children waiting for future runs (and their descriptors) are not a run's leftovers.
        Sandbox.discardPrespawnedChildren()
        let after = descriptors()
        let leaked = Set(after).subtracting(before).sorted()
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        let children = tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/self/task/\(task)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").map(String.init)
        }
        print(
            "descriptors before: \(before.count), after \(runs) runs: \(after.count); children left: \(children.isEmpty ? "none" : children.joined(separator: " "))"
        )
        guard leaked.isEmpty, children.isEmpty else {
            let targets = leaked.map {
                "\($0) → "
                    + ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) ?? "?")
            }
            print("leaked: \(targets.joined(separator: ", "))")
            return false
        }
        print("no leaks")
        return true
    }
}
