import AirlockCore
import Foundation
import SQLiteSupport
import Testing

@testable import Trace

@Suite("Tamper corpus: every change is found at the right sequence number")
struct TraceTamperTests {
    @Test func untouchedRunIsIntact() throws {
        let f = try TraceFixture()
        let result = try f.verify()
        #expect(result.status == .intact)
        #expect(result.events == 20)
        #expect(result.signedThrough == 20)
        #expect(result.problem == nil)
    }

    @Test func oneBytePayloadChange() throws {
        let f = try TraceFixture()
        var body = try f.event(7).body
        let index = try #require(body.firstIndex(of: UInt8(ascii: "7")))
        body[index] = UInt8(ascii: "8")
        try f.tamper("UPDATE events SET body = ? WHERE seq = 7", [.blob(body)])
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .payloadChanged)
        #expect(problem.seq == 7)
    }

    @Test func payloadChangedAndRehashed() throws {
        let f = try TraceFixture()
        let original = try f.event(7)
        var body = original.body
        let index = try #require(body.firstIndex(of: UInt8(ascii: "7")))
        body[index] = UInt8(ascii: "8")
        let hash = TraceStoredEvent.chainHash(prev: original.prevHash, body: body)
        try f.tamper("UPDATE events SET body = ?, hash = ? WHERE seq = 7", [.blob(body), .blob(hash)])
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .payloadChanged)
        #expect(problem.seq == 7)
    }

    @Test func wholeChainRewrittenIsCaughtByTheNextCheckpoint() throws {
        let f = try TraceFixture()
        var prev = try f.event(6).hash
        for seq in Int64(7)...20 {
            var body = try f.event(seq).body
            if seq == 7, let index = body.firstIndex(of: UInt8(ascii: "7")) { body[index] = UInt8(ascii: "8") }
            let hash = TraceStoredEvent.chainHash(prev: prev, body: body)
            try f.tamper(
                "UPDATE events SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                [.blob(body), .blob(prev), .blob(hash), .integer(seq)])
            prev = hash
        }
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .checkpointMismatch)
        #expect(problem.seq == 11)
    }

    @Test func blobByteChanged() throws {
        let f = try TraceFixture()
        let digest = try #require(TracePayloadPreparer.blobReferences(in: try f.event(6).body).first)
        var bytes = try #require(try f.store.blob(sha256: digest))
        bytes[0] ^= 0x01
        try f.tamper("UPDATE blobs SET bytes = ? WHERE sha256 = ?", [.blob(bytes), .text(digest)])
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .blobChanged)
        #expect(problem.seq == 6)
    }

    @Test func blobDeleted() throws {
        let f = try TraceFixture()
        try f.tamper("DELETE FROM blobs")
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .blobMissing)
        #expect(problem.seq == 6)
    }

    /// The listing columns are checked against the hashed body's envelope, compared in place:
    /// a plain type name, one that needs escaping, and a time, each changed in its column alone.
    @Test(arguments: [
        ("type", SQLiteValue.text("tool.resulx")), ("type", .text(#"tool."result"#)), ("type", .text("")),
        ("time_ns", .integer(1)), ("time_ns", .integer(-1)),
    ])
    func listingColumnChanged(column: String, value: SQLiteValue) throws {
        let f = try TraceFixture()
        try f.tamper("UPDATE events SET \(column) = ? WHERE seq = 9", [value])
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .payloadChanged)
        #expect(problem.seq == 9)
        #expect(problem.message.contains("type or time columns"))
    }

    @Test func oneByteOfAHashChanged() throws {
        let f = try TraceFixture()
        var hash = try f.event(9).hash
        hash[3] ^= 0x80
        try f.tamper("UPDATE events SET hash = ? WHERE seq = 9", [.blob(hash)])
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .hashChanged)
        #expect(problem.seq == 9)
    }

    @Test func prevHashChanged() throws {
        let f = try TraceFixture()
        var prev = try f.event(12).prevHash
        prev[0] ^= 0x01
        try f.tamper("UPDATE events SET prev_hash = ? WHERE seq = 12", [.blob(prev)])
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .hashChanged)
        #expect(problem.seq == 12)
    }

    @Test func eventDeleted() throws {
        let f = try TraceFixture()
        try f.tamper("DELETE FROM events WHERE seq = 8")
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .eventMissing)
        #expect(problem.seq == 8)
    }

    @Test func eventDuplicated() throws {
        let f = try TraceFixture()
        try f.tamper("UPDATE events SET seq = -(seq + 1) WHERE seq > 8")
        try f.tamper("UPDATE events SET seq = -seq WHERE seq < 0")
        try f.tamper(
            """
            INSERT INTO events(run_id, seq, type, time_ns, body, prev_hash, hash)
            SELECT run_id, 9, type, time_ns, body, prev_hash, hash FROM events WHERE seq = 8
            """)
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .eventDuplicated)
        #expect(problem.seq == 9)
    }

    @Test func eventsReordered() throws {
        let f = try TraceFixture()
        try f.tamper("UPDATE events SET seq = -1 WHERE seq = 11")
        try f.tamper("UPDATE events SET seq = 11 WHERE seq = 12")
        try f.tamper("UPDATE events SET seq = 12 WHERE seq = -1")
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .orderChanged)
        #expect(problem.seq == 11)
    }

    @Test func truncatedAfterLastCheckpoint() throws {
        let f = try TraceFixture()
        // Remove everything after event 15, the checkpoints at 16 and 20 included; the run
        // table still records that the run finished.
        try f.tamper("DELETE FROM events WHERE seq > 15")
        try f.tamper("DELETE FROM checkpoints WHERE seq > 15")
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .truncated)
        #expect(problem.seq == 16)
    }

    @Test func truncatedBeforeASignedCheckpoint() throws {
        let f = try TraceFixture(finish: false)
        try f.tamper("DELETE FROM events WHERE seq > 13")
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .truncated)
        #expect(problem.seq == 14)
    }

    @Test func reSignedWithAnotherKey() throws {
        let f = try TraceFixture()
        let other = try TraceSigningKey.generate()
        // Re-signed as a forger with the other key would: the whole checkpoint chain again.
        var prior = TraceCheckpoint.genesisLink
        for var checkpoint in try f.store.checkpoints(runID: f.runID) {
            checkpoint.keyID = other.publicKey.keyID
            checkpoint.signature = try other.sign(checkpoint.message(prior: prior))
            prior = checkpoint.link(prior: prior)
            try f.tamper(
                "UPDATE checkpoints SET key_id = ?, signature = ? WHERE seq = ?",
                [.text(checkpoint.keyID), .blob(checkpoint.signature), .integer(checkpoint.seq)])
        }
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .unknownKey)
        #expect(problem.seq == 1)
        #expect(try f.verify(trusting: [other.publicKey]).status == .intact)
    }

    @Test func signatureByteChanged() throws {
        let f = try TraceFixture()
        var signature = try #require(try f.store.checkpoints(runID: f.runID).first { $0.seq == 11 }).signature
        signature[10] ^= 0x04
        try f.tamper("UPDATE checkpoints SET signature = ? WHERE seq = 11", [.blob(signature)])
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .signatureInvalid)
        #expect(problem.seq == 11)
    }

    @Test func exportedLinesDuplicatedOrSwapped() throws {
        let f = try TraceFixture()
        var lines = try TraceJSONL.export(try f.store.bundle(runID: f.runID)).split(separator: "\n").map(String.init)
        let verifier = TraceVerifier(trustedKeys: [f.key.publicKey])
        #expect(verifier.verify(try TraceJSONL.parse(lines.joined(separator: "\n"))).status == .intact)

        var duplicated = lines
        duplicated.insert(lines[5], at: 6)  // line 5 is event 5
        let dup = try #require(verifier.verify(try TraceJSONL.parse(duplicated.joined(separator: "\n"))).problem)
        #expect(dup.kind == .eventDuplicated)
        #expect(dup.seq == 6)

        lines.swapAt(3, 4)
        let swapped = try #require(verifier.verify(try TraceJSONL.parse(lines.joined(separator: "\n"))).problem)
        #expect(swapped.kind == .orderChanged)
        #expect(swapped.seq == 3)
    }
}
