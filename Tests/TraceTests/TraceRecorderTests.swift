import AirlockCore
import Foundation
import Testing

@testable import Trace

@Suite("Recording: redaction, blobs, schemas, storage failures, keys, export")
struct TraceRecorderTests {
    @Test func redactionRunsOnEveryStringBeforeHashing() throws {
        let f = try TraceFixture(redactor: { $0.replacing("result", with: "[REDACTED]") })
        let body = String(decoding: try f.event(3).body, as: UTF8.self)
        #expect(body.contains("[REDACTED] 3"))
        #expect(!body.contains("result 3"))
        #expect(try f.verify().status == .intact)
    }

    @Test func largeStringsBecomeBlobs() throws {
        let f = try TraceFixture()
        let payload = try f.event(6).payload()
        let reference = try #require(payload["message"])
        #expect(reference["bytes"] == .integer(260))
        let digest = try #require(reference["$blob"]?.stringValue?.dropFirst("sha256:".count))
        let bytes = try #require(try f.store.blob(sha256: String(digest)))
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("large output "))
    }

    /// What replay relies on to skip resolving: the references found in a body without parsing
    /// are exactly those of its parsed payload, and an event without a large string has none.
    @Test func blobReferencesAreFoundInTheStoredBody() throws {
        let f = try TraceFixture()
        let reference = try #require(try f.event(6).payload()["message"])
        let digest = try #require(reference["$blob"]?.stringValue?.dropFirst("sha256:".count))
        #expect(TraceBlobs.references(in: try f.event(6).body) == [String(digest)])
        #expect(TraceBlobs.references(in: try f.event(3).body).isEmpty)
    }

    @Test func aReservedKeyDeepInAPayloadIsNamedByItsPointer() throws {
        let f = try TraceFixture(finish: false)
        let recorder = try RunRecorder(
            store: f.store, key: f.key, runID: "run-deep", started: ["workflow": "w", "principal": "p"])
        let record: JSONValue = ["argv": ["grep"], "outputs": [["text": "ok"], ["a/b~c": ["$blob": "forged"]]]]
        #expect(
            throws: TraceError(
                .invalidEvent, "tool.executed: key /record/outputs/1/a~1b~0c/$blob is reserved for blob references")
        ) {
            try recorder.append(.toolExecuted, ["call_id": "c1", "tool": "grep", "record": record])
        }
        // Nothing of the refused event was recorded: the next append is event 2.
        #expect(try recorder.append(.toolResult, ["call_id": "c1", "content": "x"]).seq == 2)
    }

    @Test func schemaViolationsNameTheField() throws {
        let f = try TraceFixture(finish: false)
        let recorder = try RunRecorder(
            store: f.store, key: f.key, runID: "run-2", started: ["workflow": "w", "principal": "p"])
        #expect(throws: TraceError(.invalidEvent, "tool.proposed: required field /tool is missing")) {
            try recorder.append(.toolProposed, ["call_id": "c1", "arguments": [:]])
        }
        #expect(throws: TraceError(.invalidEvent, "policy.decision: field /reasons must be array, not string")) {
            try recorder.append(.policyDecision, ["call_id": "c1", "decision": "deny", "reasons": "no"])
        }
        #expect(throws: TraceError.self) {
            try recorder.append(.toolResult, ["call_id": "c", "content": "x", "$blob": "y"])
        }
        #expect(throws: TraceError.self) {
            try RunRecorder(store: f.store, key: f.key, runID: "bad id!", started: ["workflow": "w", "principal": "p"])
        }
        #expect(throws: TraceError.self) {
            try RunRecorder(store: f.store, key: f.key, runID: "run-2", started: ["workflow": "w", "principal": "p"])
        }
    }

    @Test func unfinishedRunIsIncompleteWithAnUnsignedTail() throws {
        let f = try TraceFixture(finish: false)
        let result = try f.verify()
        #expect(result.status == .incomplete)
        #expect(result.signedThrough == 16)
        #expect(result.unsignedTail == 3)
    }

    @Test func readOnlyDatabaseStopsTheRun() throws {
        let f = try TraceFixture(finish: false)
        let readOnly = try TraceStore(path: f.store.path, configuration: .init(readOnly: true))
        let error = #expect(throws: TraceError.self) {
            try RunRecorder(store: readOnly, key: f.key, runID: "run-ro", started: ["workflow": "w", "principal": "p"])
        }
        #expect(error?.code == .readOnly)
        #expect(error?.message.contains(f.store.path) == true)
    }

    @Test func fullDiskStopsTheRunAndLeavesAVerifiablePrefix() throws {
        let f = try TraceFixture(finish: false)
        let small = try TraceStore(path: f.store.path, configuration: .init(maxDatabaseBytes: 512 * 1024))
        let recorder = try RunRecorder(
            store: small, key: f.key, runID: "run-full", started: ["workflow": "w", "principal": "p"],
            options: TraceRecorderOptions(checkpointInterval: 3))
        var failure: TraceError?
        for i in 0..<2000 {
            do {
                try recorder.append(
                    .toolResult, ["call_id": .string("c\(i)"), "content": .string(String(repeating: "z", count: 3000))])
            } catch {
                failure = error
                break
            }
        }
        #expect(failure?.code == .storageFull)
        let next = #expect(throws: TraceError.self) { try recorder.append(.error, ["stage": "s", "message": "m"]) }
        #expect(next?.code == .recorderStopped)
        let result = TraceVerifier(trustedKeys: [f.key.publicKey]).verify(try f.store.bundle(runID: "run-full"))
        #expect(result.status == .incomplete)
    }

    @Test func signingKeyIsCreated0600AndLooseModesAreRefused() throws {
        let f = try TraceFixture()
        let keys = f.directory.appendingPathComponent("keys")
        let key = try TraceSigningKey.loadOrCreate(directory: keys)
        let path = keys.appendingPathComponent(TraceSigningKey.fileName).path
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)
        #expect(mode.intValue & 0o777 == 0o600)
        #expect(try TraceSigningKey.loadOrCreate(directory: keys).publicKey == key.publicKey)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        let error = #expect(throws: TraceError.self) { try TraceSigningKey.loadOrCreate(directory: keys) }
        #expect(error?.code == .keyPermissions)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("640") == true)
        #expect(try TracePublicKey(text: key.publicKey.pem) == key.publicKey)
        #expect(try TracePublicKey(text: Hex.encode(key.publicKey.raw)) == key.publicKey)
    }

    @Test func importVerifiesAgainstTrustedKeysOnly() throws {
        let f = try TraceFixture()
        let text = try TraceJSONL.export(try f.store.bundle(runID: f.runID))
        let other = (store: try TraceStore(path: f.directory.appendingPathComponent("enclave.sqlite").path), runID: "")
        let stranger = try TraceSigningKey.generate()
        let rejected = #expect(throws: TraceError.self) {
            try TraceImport.verifyAndStore(text, into: other.store, trustedKeys: [stranger.publicKey], ledgerKey: f.key)
        }
        #expect(rejected?.code == .importRejected)
        #expect(rejected?.cause?.description.contains("unknown-key") == true)
        let tampered = text.replacing("result 9", with: "result X")
        let changed = #expect(throws: TraceError.self) {
            try TraceImport.verifyAndStore(
                tampered, into: other.store, trustedKeys: [f.key.publicKey], ledgerKey: f.key)
        }
        #expect(changed?.cause?.description.contains("seq 9: payload-changed") == true)
        let imported = try TraceImport.verifyAndStore(
            text, into: other.store, trustedKeys: [f.key.publicKey], ledgerKey: f.key)
        #expect(imported.verification.status == .intact && !imported.alreadyPresent)
        // The same run again changes nothing.
        let again = try TraceImport.verifyAndStore(
            text, into: other.store, trustedKeys: [f.key.publicKey], ledgerKey: f.key)
        #expect(again.alreadyPresent)
        #expect(try other.store.verifyLedger(trustedKeys: [f.key.publicKey]).intact)
        let stored = TraceVerifier(trustedKeys: [f.key.publicKey]).verify(try other.store.bundle(runID: f.runID))
        #expect(stored.status == .intact)
        #expect(try TraceJSONL.export(try other.store.bundle(runID: f.runID)) == text)
    }

    @Test func otelExportFollowsGenAIConventions() throws {
        let f = try TraceFixture(finish: false)
        let recorder = try RunRecorder(
            store: f.store, key: f.key, runID: "run-otel", started: ["workflow": "w", "principal": "p"],
            options: TraceRecorderOptions(clock: .stepping()))
        try recorder.append(.modelRequest, ["model": "m7"])
        try recorder.append(.modelResponse, ["model": "m7", "usage": ["input_tokens": 10, "output_tokens": 3]])
        try recorder.append(.toolProposed, ["call_id": "c1", "tool": "grep", "arguments": [:]])
        try recorder.append(
            .toolExecuted, ["call_id": "c1", "tool": "grep", "record": ["termination": ["exitCode": 0]]])
        try recorder.append(.toolResult, ["call_id": "c1", "content": "3 matches"])
        // A call asked about and refused at approval still gets its span, with the rules and tags.
        try recorder.append(.toolProposed, ["call_id": "c2", "tool": "rm", "arguments": ["path": "/"]])
        try recorder.append(
            .policyDecision,
            ["call_id": "c2", "decision": "ask", "rules": ["ask.rm"], "reasons": ["destructive"], "tags": ["asi:02"]])
        try recorder.append(.approvalDenied, ["call_id": "c2", "approver": "ana", "arguments_sha256": "d"])
        try recorder.append(.toolResult, ["call_id": "c2", "content": "refused", "refused": true])
        try recorder.finish(["status": "succeeded"])
        let doc = try TraceOTel.export(try f.store.bundle(runID: "run-otel"))
        let spans = try #require(doc.value(at: "/resourceSpans/0/scopeSpans/0/spans")?.arrayValue)
        #expect(
            spans.map { $0["name"]?.stringValue } == [
                "invoke_agent w", "chat m7", "execute_tool grep", "execute_tool rm",
            ])
        let refused = spans[3]["attributes"]?.arrayValue ?? []
        #expect(refused.contains(["key": "airlock.policy.decision", "value": ["stringValue": "ask"]]))
        #expect(refused.contains(["key": "airlock.approval.granted", "value": ["boolValue": false]]))
        #expect(refused.contains { $0["key"] == "airlock.policy.tags" && $0.canonicalString.contains("asi:02") })
        #expect(!refused.contains { $0["key"] == "gen_ai.tool.call.arguments" })
        let withContent = try TraceOTel.export(try f.store.bundle(runID: "run-otel"), includeContent: true)
        #expect(withContent.canonicalString.contains("gen_ai.tool.call.result"))
        let traceIDs = Set(spans.compactMap { $0["traceId"]?.stringValue })
        #expect(traceIDs.count == 1 && traceIDs.first?.count == 32)
        let tool = spans[2]["attributes"]?.arrayValue ?? []
        #expect(tool.contains(["key": "gen_ai.tool.call.id", "value": ["stringValue": "c1"]]))
        #expect(tool.contains(["key": "gen_ai.operation.name", "value": ["stringValue": "execute_tool"]]))
        #expect(spans[1]["parentSpanId"] == spans[0]["spanId"])
        #expect(try TraceOTel.export(try f.store.bundle(runID: "run-otel")) == doc)
    }
}
