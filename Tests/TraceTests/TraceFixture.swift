import AirlockCore
import Foundation
import SQLiteSupport
import Testing

@testable import Trace

/// A real trace database in a temporary directory with one recorded run.
struct TraceFixture {
    let directory: URL
    let store: TraceStore
    let key: TraceSigningKey
    let runID = "run-1"

    /// Records `run-1`: run.started, 18 events (a blob at seq 6), run.finished at 20 unless
    /// `finish` is false; a checkpoint at run.started (a step boundary) and every 5 events after
    /// it: at 1, 6, 11, 16 (and 20, the final one). The 18 events are `error` events, which are
    /// no step boundary, so that the interval decides.
    init(finish: Bool = true, redactor: @escaping TraceRedactor = { $0 }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("trace-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try TraceStore(path: directory.appendingPathComponent("trace.sqlite").path)
        key = try TraceSigningKey.generate()
        let recorder = try RunRecorder(
            store: store, key: key, runID: runID, started: ["workflow": "triage", "principal": "ana"],
            options: TraceRecorderOptions(
                checkpointInterval: 5, blobThreshold: 100, redactor: redactor, clock: .stepping()))
        for i in 2...19 {
            let text = i == 6 ? String(repeating: "large output ", count: 20) : "result \(i)"
            try recorder.append(.error, ["stage": .string("c\(i)"), "message": .string(text)])
        }
        if finish { try recorder.finish(["status": "succeeded"]) }
    }

    /// Verifies the run (`run-1` unless `run` is given) both ways, streamed from the store and read into a bundle first, expects
    /// the two verdicts to be identical (every tamper test checks the streamed path says what the
    /// bundle's walk says), and returns the streamed one, what `airlock trace verify` reports.
    func verify(run: String? = nil, trusting keys: [TracePublicKey]? = nil) throws -> RunVerification {
        let run = run ?? runID
        let verifier = TraceVerifier(trustedKeys: keys ?? [key.publicKey])
        let streamed = try verifier.verify(runID: run, in: store)
        let bundled = verifier.verify(try store.bundle(runID: run))
        #expect(streamed == bundled)
        return streamed
    }

    /// Runs raw SQL against the database with the append-only triggers removed, as an attacker could.
    func tamper(_ sql: String, _ bindings: [SQLiteValue] = []) throws {
        try store.withDatabase { db throws(TraceError) in
            try db.execute(
                """
                DROP TRIGGER IF EXISTS events_append_only_u; DROP TRIGGER IF EXISTS events_append_only_d;
                DROP TRIGGER IF EXISTS blobs_append_only_u; DROP TRIGGER IF EXISTS checkpoints_append_only_u;
                """, stage: "drop triggers")
            try db.query(sql, bindings, stage: "tamper")
        }
    }

    func event(_ seq: Int64) throws -> TraceStoredEvent {
        try #require(try store.events(runID: runID).first { $0.seq == seq })
    }
}
