import AirlockCore
import Foundation
import SQLiteSupport
import Trace

/// Durable appends and verification, each against what SQLite and libcrypto alone do with the
/// same bytes, in alternating rounds:
///
/// - batch append: ``RunRecorder/append(batch:)`` in batches of 64 against plain inserts of the
///   same rows (the bodies the recorder wrote, SHA-256 chained again) through the same
///   SQLiteSupport wrapper, same table, WAL, `synchronous=FULL`, one transaction per batch;
/// - single append: one ``RunRecorder/append(_:_:)`` against one insert and commit;
/// - verify: ``TraceVerifier/verify(runID:in:)`` (rows streamed from SQLite into the chain hash) against one SHA-256
///   (libcrypto) pass over the same bytes it hashes, already in memory.
struct TraceBench {
    /// Events per batch round.
    var batchEvents = 12_800
    /// Events per transaction (the anchor used 64).
    var batchSize = 64
    /// Alternating rounds of each.
    var rounds = 5
    /// Single appends timed (each alternating with one anchor insert).
    var singles = 600
    /// Payload bytes per event.
    var payloadBytes = 512

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

    /// The plain-SQLite anchor: the events table of a trace database, written with nothing else.
    final class PlainTable {
        let db: SQLiteDatabase<SQLiteError>
        static let insert =
            "INSERT INTO events(run_id, seq, type, time_ns, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)"

        init(path: String) throws {
            // The trace's own schema, then a connection of the same configuration as TraceStore's.
            _ = try TraceStore(path: path)
            db = try SQLiteDatabase(
                path: path, configuration: .init(writeAheadLog: true, synchronous: .full))
        }

        /// Inserts `rows` (type, time, body) as run `runID`, chaining SHA-256 hashes, in
        /// transactions of `batchSize`.
        func write(_ rows: [TraceStoredEvent], runID: String, batchSize: Int) throws {
            var head = TraceStoredEvent.genesisHash
            var index = 0
            while index < rows.count {
                let end = min(index + batchSize, rows.count)
                try db.transaction { () throws(SQLiteError) in
                    for row in rows[index..<end] {
                        let hash = SHA256.hash(head, row.body)
                        try db.query(
                            Self.insert,
                            [
                                .text(runID), .integer(row.seq), .text(row.type), .integer(row.time), .blob(row.body),
                                .blob(head), .blob(hash),
                            ])
                        head = hash
                    }
                }
                index = end
            }
        }
    }

    func run(scratch: URL) throws -> [Row] {
        let path = scratch.appendingPathComponent("trace-\(UUID().uuidString).sqlite").path
        let anchorPath = scratch.appendingPathComponent("plain-\(UUID().uuidString).sqlite").path
        defer {
            for file in [path, anchorPath] {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
            }
        }
        let store = try TraceStore(path: path)
        let plain = try PlainTable(path: anchorPath)
        let key = try TraceSigningKey.generate()
        let started: JSONValue = ["workflow": "bench", "principal": "bench"]
        let drafts = (0..<batchEvents).map { TraceEventDraft(.toolExecuted, Self.payload($0, bytes: payloadBytes)) }

        // Batch: alternate plain inserts of the rows the recorder wrote and the recorder itself.
        var recorded: [TraceStoredEvent] = []
        var ours: [Double] = []
        var theirs: [Double] = []
        var runs: [String] = []
        for round in 0...rounds {
            let runID = "batch-\(round)"
            let recorder = try RunRecorder(store: store, key: key, runID: runID, started: started)
            let seconds = try Stats.seconds {
                var n = 0
                while n < drafts.count {
                    let end = min(n + batchSize, drafts.count)
                    try recorder.append(batch: Array(drafts[n..<end]))
                    n = end
                }
            }
            _ = try recorder.finish(["status": "succeeded"])
            runs.append(runID)
            if recorded.isEmpty { recorded = Array(try store.events(runID: runID).dropFirst().prefix(drafts.count)) }
            let anchor = try Stats.seconds {
                try plain.write(recorded, runID: "plain-\(round)", batchSize: batchSize)
            }
            // Round 0 warms both up.
            if round > 0 {
                ours.append(Double(drafts.count) / seconds)
                theirs.append(Double(recorded.count) / anchor)
            }
        }

        // Single appends, each beside one plain insert and commit.
        let single = try RunRecorder(store: store, key: key, runID: "single", started: started)
        var singleOurs: [Double] = []
        var singleTheirs: [Double] = []
        var head = TraceStoredEvent.genesisHash
        for i in 0..<singles {
            let row = recorded[i % recorded.count]
            var start = Stats.now()
            let hash = SHA256.hash(head, row.body)
            try plain.db.transaction { () throws(SQLiteError) in
                try plain.db.query(
                    PlainTable.insert,
                    [
                        .text("plain-single"), .integer(Int64(i + 1)), .text(row.type), .integer(row.time),
                        .blob(row.body), .blob(head), .blob(hash),
                    ])
            }
            head = hash
            singleTheirs.append(Stats.since(start) / 1000)
            let draft = drafts[i % drafts.count]
            start = Stats.now()
            try single.append(draft.type, draft.payload)
            singleOurs.append(Stats.since(start) / 1000)
        }
        _ = try single.finish(["status": "succeeded"])

        // Verify, reading SQLite, against SHA-256 over the same bytes in one pass.
        let verifier = TraceVerifier(trustedKeys: [key.publicKey])
        var verifyOurs: [Double] = []
        var verifyTheirs: [Double] = []
        var hashedBytes: [UInt8] = []
        for bundleRun in runs.prefix(2) {
            let bundle = try store.bundle(runID: bundleRun)
            for event in bundle.events { hashedBytes += event.prevHash + event.body }
            for blob in bundle.blobs.values { hashedBytes += blob }
        }
        var verifiedBytes = 0
        var inMemory: [Double] = []
        var bundled: [Double] = []
        let bundles = try runs.prefix(2).map { try store.bundle(runID: $0) }
        for round in 0...rounds {
            var bytes = 0
            let seconds = try Stats.seconds {
                for bundleRun in runs.prefix(2) {
                    let result = try verifier.verify(runID: bundleRun, in: store)
                    guard result.status == .intact else { throw BenchError("run \(bundleRun): \(result.status)") }
                    bytes += result.bytesHashed
                }
            }
            var digest: [UInt8] = []
            let anchor = Stats.seconds { digest = SHA256.hash(hashedBytes) }
            let memory = Stats.seconds { for bundle in bundles { _ = verifier.verify(bundle) } }
            // The way verify read a run before it streamed: the whole bundle first, then the walk.
            let viaBundle = try Stats.seconds {
                for bundleRun in runs.prefix(2) { _ = verifier.verify(try store.bundle(runID: bundleRun)) }
            }
            if round > 0 && !digest.isEmpty {
                inMemory.append(Double(bytes) / memory / 1e6)
                bundled.append(Double(bytes) / viaBundle / 1e6)
                verifyOurs.append(Double(bytes) / seconds / 1e6)
                verifyTheirs.append(Double(hashedBytes.count) / anchor / 1e6)
            }
            verifiedBytes = bytes
        }
        return [
            Row(
                id: "trace.batch_append", what: "durable batch append (\(batchSize) per transaction)",
                figure: Stats.median(ours), unit: "events/s", anchor: Stats.median(theirs),
                anchorName: "plain SQLite inserts of the same rows, SHA-256 chained", comparison: .ratio,
                note:
                    "\(rounds) rounds of \(drafts.count) events of \(payloadBytes)-byte outputs; WAL, synchronous=FULL"),
            Row(
                id: "trace.single_append", what: "single durable append (p50)", figure: Stats.median(singleOurs),
                unit: "µs", anchor: Stats.median(singleTheirs), anchorName: "one SQLite insert + commit",
                comparison: .ratio,
                note:
                    "\(singles) each, alternating; p99 \(Format.number(Stats.percentile(singleOurs, 0.99))) µs against \(Format.number(Stats.percentile(singleTheirs, 0.99))) µs"
            ),
            Row(
                id: "trace.verify", what: "verify, reading SQLite", figure: Stats.median(verifyOurs), unit: "MB/s",
                anchor: Stats.median(verifyTheirs), anchorName: "SHA-256 of the same bytes (libcrypto)",
                comparison: .ratio,
                note:
                    "\(verifiedBytes) bytes hashed per round; on runs already read into memory \(Format.number(Stats.median(inMemory))) MB/s; reading each run into a bundle first \(Format.number(Stats.median(bundled))) MB/s"
            ),
        ]
    }
}
