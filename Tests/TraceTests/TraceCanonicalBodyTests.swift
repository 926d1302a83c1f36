import AirlockCore
import Foundation
import Testing

@testable import Trace

/// The recorder writes each event body in one pass (payload redacted and blob-split as it goes);
/// these hold it to the canonical form every other reader and verifier assumes.
@Suite("Event bodies: one-pass writing is canonical form, checkpoints chain")
struct TraceCanonicalBodyTests {
    /// Payloads with what canonical form has rules for: key order by UTF-8 bytes (not by
    /// Unicode scalars or by locale), escapes, negative and large integers, fractions, nesting,
    /// empty containers, a blob inside an array and a key that redaction rewrites.
    static let payloads: [JSONValue] = [
        [
            "call_id": "c1", "tool": "grep", "arguments": ["pattern": "a\"b\\c\n\t\u{01}", "é": 1, "e": 2, "Z": 3],
            "record": [
                "n": .integer(-9_223_372_036_854_775_807), "big": .integer(Int64.max), "x": .number(0.25),
                "tiny": .number(1e-7), "whole": .number(3.0), "empty": [:], "list": [], "nested": [[[:]], [1, 2]],
                "outputs": [.string(String(repeating: "long ", count: 30)), "short", .null, true, false],
            ],
        ],
        ["call_id": "c2", "content": "secret-token appears here", "secret-token": "as a key too"],
    ]

    @Test func theOnePassBodyIsTheCanonicalEncodingOfWhatItSays() throws {
        let f = try TraceFixture(finish: false, redactor: { $0.replacing("secret-token", with: "[REDACTED]") })
        let recorder = try RunRecorder(
            store: f.store, key: f.key, runID: "bodies", started: ["workflow": "w", "principal": "p"],
            options: TraceRecorderOptions(
                blobThreshold: 100, redactor: { $0.replacing("secret-token", with: "[REDACTED]") }))
        try recorder.append(.toolExecuted, Self.payloads[0])
        try recorder.append(.toolResult, Self.payloads[1])
        let events = try f.store.events(runID: "bodies")
        #expect(events.count == 3)
        for event in events {
            // Parsing and re-encoding canonically must give back the very bytes that were hashed.
            #expect(try event.decoded().canonicalBytes == event.body)
        }
        let result = try #require(events.last).payload()
        #expect(result["[REDACTED]"] == "as a key too")
        #expect(result["content"] == "[REDACTED] appears here")
        let executed = try events[1].payload()
        let blob = try #require(executed["record"]?["outputs"]?.arrayValue?.first)
        #expect(TraceBlobs.reference(blob) != nil)
        #expect(executed["record"]?["tiny"] == .number(1e-7))
        #expect(
            TraceVerifier(trustedKeys: [f.key.publicKey]).verify(try f.store.bundle(runID: "bodies")).status
                == .incomplete)
    }

    @Test func aKeyThatRedactionMakesCollideIsRefusedByItsPointer() throws {
        let f = try TraceFixture(finish: false)
        let recorder = try RunRecorder(
            store: f.store, key: f.key, runID: "collide", started: ["workflow": "w", "principal": "p"],
            options: TraceRecorderOptions(redactor: { $0.replacing("tok-1", with: "tok-2") }))
        #expect(throws: TraceError.self) {
            try recorder.append(.toolResult, ["call_id": "c", "content": "x", "deep": ["tok-1": 1, "tok-2": 2]])
        }
    }

    @Test func checkpointsChainSoOneSignatureCoversThemAll() throws {
        let f = try TraceFixture()
        let checkpoints = try f.store.checkpoints(runID: f.runID)
        let priors = TraceCheckpoint.priors(of: checkpoints)
        #expect(checkpoints.count == 5)
        #expect(priors.first == TraceCheckpoint.genesisLink)
        for (checkpoint, prior) in zip(checkpoints, priors) {
            #expect(f.key.publicKey.isValidSignature(checkpoint.signature, for: checkpoint.message(prior: prior)))
        }
        // Flipping an intermediate checkpoint's `final` column changes what the chain says.
        try f.tamper("UPDATE checkpoints SET final = 1 WHERE seq = 6")
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .signatureInvalid)
        #expect(problem.seq == 6)
    }

    @Test func aTraceWrittenBeforeTheChainStillVerifies() throws {
        let f = try TraceFixture()
        // Each checkpoint re-signed under the legacy message, as an earlier Airlock wrote them.
        for checkpoint in try f.store.checkpoints(runID: f.runID) {
            try f.tamper(
                "UPDATE checkpoints SET signature = ? WHERE seq = ?",
                [.blob(try f.key.sign(checkpoint.legacyMessage)), .integer(checkpoint.seq)])
        }
        #expect(try f.verify().status == .intact)
        var signature = try #require(try f.store.checkpoints(runID: f.runID).first { $0.seq == 11 }).signature
        signature[3] ^= 0x01
        try f.tamper("UPDATE checkpoints SET signature = ? WHERE seq = 11", [.blob(signature)])
        let problem = try #require(try f.verify().problem)
        #expect(problem.kind == .signatureInvalid)
        #expect(problem.seq == 11)
    }
}

@Suite("Timeline: a corridor run's network activity")
struct TraceTimelineNetworkTests {
    @Test func connectionsAndRefusedConnectsAreShownOneLineEach() throws {
        let f = try TraceFixture(finish: false)
        let recorder = try RunRecorder(
            store: f.store, key: f.key, runID: "net", started: ["workflow": "w", "principal": "p"])
        let network: JSONValue = [
            "corridors": [], "limits": ["connections": 32, "bytes": 67_108_864],
            "connections": [
                [
                    "host": "records.internal", "port": 5432, "address": "198.19.250.2", "bytesSent": 4,
                    "bytesReceived": 15, "durationSeconds": 0.0045, "outcome": "closed",
                ],
                [
                    "host": "tickets.internal", "port": 80, "address": "198.19.250.3", "bytesSent": 120,
                    "bytesReceived": 0, "durationSeconds": 0.001, "outcome": "refused", "method": "DELETE",
                    "path": "/tickets/7", "status": 403, "reason": "method DELETE is not allowed",
                ],
            ],
            "refusedConnects": ["127.1.0.1:22", "198.19.250.2:5432"],
        ]
        try recorder.append(
            .toolExecuted,
            [
                "call_id": "c1", "tool": "records.lookup",
                "record": ["termination": ["exitCode": 0], "network": network],
            ])
        let entry = try #require(try TraceTimeline(try f.store.bundle(runID: "net")).entries.last)
        #expect(entry.summary.hasSuffix(", 2 corridor connection(s), 2 refused connect(s)"))
        #expect(
            entry.details == [
                "network: records.internal:5432 → 198.19.250.2 closed, sent 4 B, received 15 B in 0.0045s",
                "network: tickets.internal:80 → 198.19.250.3 refused, DELETE /tickets/7 → 403, sent 120 B, received 0 B in 0.001s (method DELETE is not allowed)",
                "network refused: connect 127.1.0.1:22",
                "network refused: connect 198.19.250.2:5432",
            ])
    }
}

/// The JSONL export names the canonical form its events were hashed in, so that a run recorded
/// before RFC 8785 was adopted still imports, and one recorded since round-trips.
@Suite("JSONL export across canonical forms")
struct TraceCanonicalFormExportTests {
    @Test("a run with form-sensitive numbers and keys exports as form 2 and imports intact")
    func roundTrip() throws {
        let f = try TraceFixture(finish: false)
        let recorder = try RunRecorder(
            store: f.store, key: f.key, runID: "run-numbers", started: ["workflow": "triage", "principal": "ana"],
            options: TraceRecorderOptions(clock: .stepping()))
        try recorder.append(
            .error,
            [
                "stage": "numbers", "message": "m", "small": .number(1e-7), "big": .number(1e21), "\u{FB33}": 1,
                "\u{1F600}": 2,
            ])
        try recorder.finish(["status": "succeeded"])
        let text = try TraceJSONL.export(try f.store.bundle(runID: "run-numbers"))
        #expect(text.hasPrefix(#"{"canonical":2,"#))
        #expect(text.contains(#""small":1e-7"#) && text.contains(#""big":1e+21"#))
        let other = try TraceStore(path: f.directory.appendingPathComponent("other.sqlite").path)
        let imported = try TraceImport.verifyAndStore(
            text, into: other, trustedKeys: [f.key.publicKey], ledgerKey: f.key)
        #expect(imported.verification.status == .intact)
    }

    @Test("bodies hashed in form 1 are exported as form 1, and a version 1 export is read in form 1")
    func formOne() throws {
        let legacy: JSONValue = ["seq": 1, "small": .number(1e-7)]
        let event = TraceStoredEvent(
            runID: "old", seq: 1, type: "error", time: 0, body: legacy.canonicalBytes(.v1), prevHash: [], hash: [])
        #expect(try TraceJSONL.canonicalForm(of: [event]) == .v1)
        #expect(
            try TraceJSONL.canonicalForm(
                of: [event].map { e in
                    var current = e
                    current.body = legacy.canonicalBytes
                    return current
                }) == .rfc8785)
        let header =
            #"{"format":"airlock.trace.jsonl","kind":"run","principal":"ana","run":"old","started":0,"version":1,"workflow":"w"}"#
        let line = #"{"event":{"seq":1,"small":1e-7},"hash":"00","kind":"event","prev_hash":"00","seq":1}"#
        let bundle = try TraceJSONL.parse(header + "\n" + line + "\n")
        #expect(bundle.events.first?.body == legacy.canonicalBytes(.v1))
        let mixed = TraceStoredEvent(
            runID: "old", seq: 2, type: "error", time: 0, body: Array(#"{"a": 1}"#.utf8), prevHash: [], hash: [])
        let error = #expect(throws: TraceError.self) { try TraceJSONL.canonicalForm(of: [event, mixed]) }
        #expect(error?.message.contains("event 2") == true)
    }
}
