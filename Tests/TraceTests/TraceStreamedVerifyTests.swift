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

    @Test func anUnknownRunIsNotFound() throws {
        let f = try TraceFixture()
        let verifier = TraceVerifier(trustedKeys: [f.key.publicKey])
        let error = #expect(throws: TraceError.self) { try verifier.verify(runID: "no-such-run", in: f.store) }
        #expect(error?.code == .runNotFound)
    }
}
