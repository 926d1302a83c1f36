import AirlockCore
import Foundation
import Testing

@testable import Trace

/// Held events (``RunRecorder/appendPending(_:_:)``): numbered and chained at once, on disk only
/// at the next commit, and never a hole in the run.
@Suite("Recording: held events and commit barriers")
struct TracePendingTests {
    @Test("held events get their final numbers at once and reach the database together at the commit")
    func heldEventsLandAtTheCommit() throws {
        let f = try TraceFixture(finish: false)
        let recorder = try RunRecorder(
            store: f.store, key: f.key, runID: "run-held", started: ["workflow": "w", "principal": "p"])
        let first = try recorder.appendPending(.modelRequest, ["model": "m"])
        let second = try recorder.appendPending(.modelResponse, ["model": "m"])
        #expect([first.seq, second.seq] == [2, 3])
        #expect(recorder.pendingCount == 2)
        #expect(try f.store.events(runID: "run-held").map(\.seq) == [1])

        try recorder.commit()
        #expect(recorder.pendingCount == 0)
        let stored = try f.store.events(runID: "run-held")
        #expect(stored.map(\.seq) == [1, 2, 3])
        #expect(stored.last?.hash == second.hash)
        // model.response is a step boundary: the commit is signed through it.
        #expect(try f.store.checkpoints(runID: "run-held").map(\.seq) == [1, 3])
        try recorder.commit()  // nothing held: nothing written
        #expect(try f.store.checkpoints(runID: "run-held").map(\.seq) == [1, 3])
    }

    @Test("a committing append and finish carry every held event before them, in order")
    func appendsCarryHeldEvents() throws {
        let f = try TraceFixture(finish: false)
        let recorder = try RunRecorder(
            store: f.store, key: f.key, runID: "run-carry", started: ["workflow": "w", "principal": "p"])
        try recorder.appendPending(.error, ["stage": "s", "message": "held 2"])
        #expect(try recorder.append(.error, ["stage": "s", "message": "durable 3"]).seq == 3)
        #expect(try f.store.events(runID: "run-carry").map(\.seq) == [1, 2, 3])
        try recorder.appendPending(.error, ["stage": "s", "message": "held 4"])
        try recorder.finish(["status": "succeeded"])
        let verdict = TraceVerifier(trustedKeys: [f.key.publicKey]).verify(try f.store.bundle(runID: "run-carry"))
        #expect(verdict.status == .intact, "\(verdict.summary)")
        #expect(verdict.events == 5)
    }

    @Test("a recorder gone with events held leaves a signed prefix that verifies as incomplete")
    func aCrashLosesOnlyTheHeldTail() throws {
        let f = try TraceFixture(finish: false)
        do {
            let recorder = try RunRecorder(
                store: f.store, key: f.key, runID: "run-crash", started: ["workflow": "w", "principal": "p"])
            try recorder.appendPending(.modelRequest, ["model": "m"])
            try recorder.appendPending(.modelResponse, ["model": "m"])
            try recorder.commit()
            try recorder.appendPending(.toolProposed, ["call_id": "c1", "tool": "grep", "arguments": [:]])
            // The process dies here: the proposal was never committed.
        }
        let bundle = try f.store.bundle(runID: "run-crash")
        #expect(bundle.events.map(\.seq) == [1, 2, 3])
        #expect(TraceVerifier(trustedKeys: [f.key.publicKey]).verify(bundle).status == .incomplete)
    }

    @Test("a held event that fails its schema is refused at once and takes no number")
    func aRefusedHeldEventTakesNoNumber() throws {
        let f = try TraceFixture(finish: false)
        let recorder = try RunRecorder(
            store: f.store, key: f.key, runID: "run-refused", started: ["workflow": "w", "principal": "p"])
        #expect(throws: TraceError(.invalidEvent, "tool.proposed: required field /tool is missing")) {
            try recorder.appendPending(.toolProposed, ["call_id": "c1", "arguments": [:]])
        }
        #expect(throws: TraceError.self) { try recorder.appendPending(.runFinished, ["status": "succeeded"]) }
        #expect(try recorder.appendPending(.error, ["stage": "s", "message": "m"]).seq == 2)
    }
}
