import AirlockCore
import AirlockTestSupport
import Foundation
import SQLiteSupport
import Testing

@testable import Trace

@Suite("Streamed verify: rows from the store straight into the chain hash")
struct TraceStreamedVerifyTests {
    @Test func theDefaultBorrowingReadGivesTheSameVerdicts() throws {
        let f = try TraceFixture()
        let copying = TraceStore(backend: ForwardingTraceBackend(f.store.backend))
        let verifier = TraceVerifier(trustedKeys: [f.key.publicKey])
        let intact = try verifier.verify(runID: f.runID, in: copying)
        #expect(intact.status == .intact)
        #expect(intact == (try f.verify()))

        let digest = try #require(TracePayloadPreparer.blobReferences(in: try f.event(6).body).first)
        try f.tamper("UPDATE blobs SET bytes = ? WHERE sha256 = ?", [.blob(Array("changed".utf8)), .text(digest)])
        let broken = try verifier.verify(runID: f.runID, in: copying)
        #expect(broken.problem?.kind == .blobChanged)
        #expect(broken.problem?.seq == 6)
        #expect(broken == (try f.verify()))
    }

    /// A run several times the hasher's batch and queue (rows hashed on another thread while the
    /// next are read, and by the reading thread itself while the queue is full and at the end):
    /// tampered in any batch, early or late, the streamed verdict is still the bundle's, word for
    /// word.
    @Test(arguments: [
        (
            "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'row 100 ', 'row 10O ') AS BLOB) WHERE seq = 100",
            Int64(100)
        ),
        ("UPDATE events SET type = 'tool.resulx' WHERE seq = 700", 700),
        ("UPDATE events SET hash = zeroblob(32) WHERE seq = 1500", 1500),
        ("UPDATE events SET prev_hash = zeroblob(32) WHERE seq = 2101", 2101),
    ])
    func aLongRunHashedOnAnotherThreadGivesTheBundlesVerdict(tamper sql: String, seq: Int64) throws {
        let f = try LongRun()
        // TraceFixture.verify expects the streamed verdict to be the bundle's.
        let intact = try f.fixture.verify(run: f.runID)
        #expect(intact.status == .intact)
        #expect(intact.bytesHashed > ChainHasher.batchBytes * (ChainHasher.inFlight + 2))

        try f.fixture.tamper(sql)
        let broken = try f.fixture.verify(run: f.runID)
        #expect(broken.status == .broken)
        #expect(broken.problem?.seq == seq)
    }

    @Test func anUnknownRunIsNotFound() throws {
        let f = try TraceFixture()
        let verifier = TraceVerifier(trustedKeys: [f.key.publicKey])
        let error = #expect(throws: TraceError.self) { try verifier.verify(runID: "no-such-run", in: f.store) }
        #expect(error?.code == .runNotFound)
    }
}

/// A run of 2,400 events of about 1 KiB each (2.5 MB), committed 200 at a time, beside the
/// fixture's `run-1`.
private struct LongRun {
    let fixture: TraceFixture
    let runID = "long-run"

    init() throws {
        fixture = try TraceFixture()
        let recorder = try RunRecorder(
            store: fixture.store, key: fixture.key, runID: runID, started: ["workflow": "triage", "principal": "ana"],
            options: TraceRecorderOptions(checkpointInterval: 64, clock: .stepping()))
        let filler = String(repeating: "x", count: 1000)
        for i in 2...2399 {
            try recorder.appendPending(.error, ["stage": .string("row \(i) "), "message": .string(filler)])
            if i % 200 == 0 { try recorder.commit() }
        }
        try recorder.finish(["status": "succeeded"])
    }
}
