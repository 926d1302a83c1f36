import AirlockCore
import Foundation

/// The trace benchmark behind `airlock bench trace`: durable batch and single appends, verify.
public enum TraceBenchmark {
    /// The figures of one benchmark run.
    public struct Result: Sendable {
        /// Durable events per second appended in batches.
        public var batchEventsPerSecond: Double
        /// Median latency of one durable single-event append, in microseconds.
        public var singleP50Micros: Double
        /// 99th percentile of the same, in microseconds.
        public var singleP99Micros: Double
        /// Verify throughput over bodies and blobs, in MB/s (10^6 bytes).
        public var verifyMBPerSecond: Double
        /// Verify throughput on bundles already read into memory, in MB/s.
        public var verifyInMemoryMBPerSecond: Double
        /// Bytes verified.
        public var verifiedBytes: Int

        /// The figures as lines, with the targets from issue 5.
        public var report: String {
            func f(_ d: Double) -> String { String(Double(Int((d * 10).rounded())) / 10) }
            return """
                batch append:  \(f(batchEventsPerSecond)) durable events/s (target >= 20000)
                single append: p50 \(f(singleP50Micros)) us, p99 \(f(singleP99Micros)) us (target p50 <= 200 us)
                verify:        \(f(verifyMBPerSecond)) MB/s over \(verifiedBytes) bytes, reading SQLite (target >= 200 MB/s)
                verify:        \(f(verifyInMemoryMBPerSecond)) MB/s, chain and signatures only (bundles in memory)
                """
        }
    }

    /// A tool.executed-sized payload of about `bytes` bytes.
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

    /// Runs the benchmark in `directory` (a fresh database file is created there).
    /// - Parameters:
    ///   - directory: where the benchmark database goes.
    ///   - batchEvents: events appended in batches (default 20 000).
    ///   - batchSize: events per transaction (default 100).
    ///   - singleAppends: single durable appends timed (default 1000).
    ///   - payloadBytes: approximate payload size (default 512).
    /// - Throws: ``TraceError`` when the store fails.
    public static func run(
        directory: URL, batchEvents: Int = 20_000, batchSize: Int = 100, singleAppends: Int = 1000,
        payloadBytes: Int = 512
    ) throws(TraceError) -> Result {
        let path = directory.appendingPathComponent("bench-\(UUID().uuidString).sqlite").path
        let store = try TraceStore(path: path)
        let key = try TraceSigningKey.generate()
        let started: JSONValue = ["workflow": "bench", "principal": "bench"]

        let batched = try RunRecorder(store: store, key: key, runID: "bench-batch", started: started)
        let batchStart = DispatchTime.now().uptimeNanoseconds
        var n = 0
        while n < batchEvents {
            let count = min(batchSize, batchEvents - n)
            try batched.append(
                batch: (0..<count).map { TraceEventDraft(.toolExecuted, payload(n + $0, bytes: payloadBytes)) })
            n += count
        }
        let batchSeconds = Double(DispatchTime.now().uptimeNanoseconds - batchStart) / 1e9
        _ = try batched.finish(["status": "succeeded"])

        let single = try RunRecorder(store: store, key: key, runID: "bench-single", started: started)
        var latencies: [Double] = []
        for i in 0..<singleAppends {
            let p = payload(i, bytes: payloadBytes)
            let t0 = DispatchTime.now().uptimeNanoseconds
            try single.append(.toolExecuted, p)
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
        }
        _ = try single.finish(["status": "succeeded"])
        latencies.sort()

        let verifier = TraceVerifier(trustedKeys: [key.publicKey])
        let verifyStart = DispatchTime.now().uptimeNanoseconds
        var bytes = 0
        for run in ["bench-batch", "bench-single"] {
            let result = verifier.verify(try store.bundle(runID: run))
            guard result.status == .intact else {
                throw TraceError(.corrupt, "benchmark run \(run) did not verify: \(result.summary)")
            }
            bytes += result.bytesHashed
        }
        let verifySeconds = Double(DispatchTime.now().uptimeNanoseconds - verifyStart) / 1e9
        // The same check on bundles already in memory: the verifier alone, without SQLite reads.
        let bundles = [try store.bundle(runID: "bench-batch"), try store.bundle(runID: "bench-single")]
        let memoryStart = DispatchTime.now().uptimeNanoseconds
        for bundle in bundles { _ = verifier.verify(bundle) }
        let memorySeconds = Double(DispatchTime.now().uptimeNanoseconds - memoryStart) / 1e9
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        return Result(
            batchEventsPerSecond: Double(batchEvents) / batchSeconds, singleP50Micros: percentile(0.5),
            singleP99Micros: percentile(0.99), verifyMBPerSecond: Double(bytes) / verifySeconds / 1e6,
            verifyInMemoryMBPerSecond: Double(bytes) / memorySeconds / 1e6, verifiedBytes: bytes)
    }

    /// Appends to `store` forever: runs of `runLength` events, each finished, with checkpoints
    /// every `checkpointInterval`. For the crash test, which kills it with SIGKILL.
    /// - Throws: ``TraceError`` when the store fails.
    public static func appendLoop(
        store: TraceStore, key: TraceSigningKey, runLength: Int = 40, checkpointInterval: Int = 7
    ) throws(TraceError) -> Never {
        let options = TraceRecorderOptions(checkpointInterval: checkpointInterval, blobThreshold: 256)
        var run = 0
        while true {
            run += 1
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
}
