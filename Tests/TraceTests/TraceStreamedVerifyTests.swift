import AirlockCore
import Foundation
import SQLiteSupport
import Testing

@testable import Trace

/// A backend that forwards every read and write to another but has no borrowing read of its own,
/// so ``TraceBackend/scanEvents(runID:_:)`` is the protocol's default over `events(runID:)`: what
/// a backend such as PostgreSQL's gets.
private final class CopyingBackend: TraceBackend {
    let inner: any TraceBackend
    init(_ inner: any TraceBackend) { self.inner = inner }
    var location: String { inner.location }
    func runs() throws(TraceError) -> [TraceRunSummary] { try inner.runs() }
    func runRow(_ runID: String) throws(TraceError) -> TraceRunSummary? { try inner.runRow(runID) }
    func events(runID: String) throws(TraceError) -> [TraceStoredEvent] { try inner.events(runID: runID) }
    func firstEvents() throws(TraceError) -> [TraceStoredEvent] { try inner.firstEvents() }
    func checkpoints(runID: String) throws(TraceError) -> [TraceCheckpoint] { try inner.checkpoints(runID: runID) }
    func blob(sha256: String) throws(TraceError) -> [UInt8]? { try inner.blob(sha256: sha256) }
    func ledgerEntries() throws(TraceError) -> [TraceLedger.Entry] { try inner.ledgerEntries() }
    func heads() throws(TraceError) -> [String: TraceHead] { try inner.heads() }
    func write(stage: String, _ body: (any TraceWriting) throws(TraceError) -> Void) throws(TraceError) {
        try inner.write(stage: stage, body)
    }
}

@Suite("Streamed verify: rows from the store straight into the chain hash")
struct TraceStreamedVerifyTests {
    @Test func theDefaultBorrowingReadGivesTheSameVerdicts() throws {
        let f = try TraceFixture()
        let copying = TraceStore(backend: CopyingBackend(f.store.backend))
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

    @Test func anUnknownRunIsNotFound() throws {
        let f = try TraceFixture()
        let verifier = TraceVerifier(trustedKeys: [f.key.publicKey])
        let error = #expect(throws: TraceError.self) { try verifier.verify(runID: "no-such-run", in: f.store) }
        #expect(error?.code == .runNotFound)
    }
}
