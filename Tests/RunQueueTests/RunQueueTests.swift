import AirlockCore
import AirlockTestSupport
import Foundation
import RunQueue
import Testing
import Trace
import TracePostgres

/// A site database of its own with the schema and roles made, and a workflow file to submit.
struct QueueFixture {
    let server: PostgresTestServer
    let database: String
    let directory: URL
    let workflow: URL

    init(_ prefix: String) throws {
        server = try PostgresTestServer.start()
        database = try server.createDatabase(prefix)
        try PostgresSchema.initialize(try PostgresSession(url: try PostgresURL(server.url(database: database))))
        directory = try AgentFixture.directory("queue-test")
        workflow = directory.appendingPathComponent("w.yaml")
        try Data("airlock_workflow: 1\n".utf8).write(to: workflow)
    }

    /// A queue logged in as the workers' role.
    func queue() throws -> RunQueue {
        RunQueue(session: try session())
    }

    func session(_ user: String = "airlock_worker") throws -> PostgresSession {
        try PostgresSession(url: try PostgresURL(server.url(user: user, database: database)))
    }
}

@Suite("The run queue: SKIP LOCKED claims, leases, fencing by attempt, rescue, cancel")
struct RunQueueTests {
    @Test func concurrentClaimersNeverTakeTheSameRun() async throws {
        let fixture = try QueueFixture("claims")
        let queue = try fixture.queue()
        for i in 0..<40 {
            try queue.submit(
                workflow: fixture.workflow, parameters: ["i": "\(i)"], model: nil, principal: "ana", runID: "r\(i)")
        }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<4 {
                let mine = try fixture.queue()
                group.addTask {
                    var ids: [String] = []
                    while let claim = try mine.claim(worker: "w\(worker)", leaseMilliseconds: 60_000) {
                        ids.append(claim.run.runID)
                        #expect(claim.run.attempt == 1)
                    }
                    return ids
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claimed.count == 40 && Set(claimed).count == 40)
        #expect(try queue.list(state: "running").count == 40)
        #expect(try queue.show("r7").parameters == ["i": "7"])
        #expect(throws: QueueError.self) {
            try queue.submit(workflow: fixture.workflow, parameters: [:], model: nil, principal: "ana", runID: "r7")
        }
    }

    @Test func aWorkerThatLostItsLeaseCannotWriteTheTraceOrEndTheRun() async throws {
        let fixture = try QueueFixture("fencing")
        let queue = try fixture.queue()
        try queue.submit(workflow: fixture.workflow, parameters: [:], model: nil, principal: "ana", runID: "r1")
        let claim = try #require(try queue.claim(worker: "slow", leaseMilliseconds: 300))
        let key = try TraceSigningKey.generate()
        let stale = TraceStore(backend: try PostgresTraceBackend(session: try fixture.session(), fence: claim.fence))
        let recorder = try RunRecorder(
            store: stale, key: key, runID: "r1", started: ["workflow": "w", "principal": "ana"])
        try recorder.append(.error, ["stage": "s", "message": "written while the lease held"])
        // The lease runs out without a heartbeat; a rescuer takes the run (the next attempt).
        try await AgentFixture.waitUntil("the lease expired") {
            try fixture.server.psql(
                "SELECT lease_until < clock_timestamp() FROM airlock.queue WHERE run_id = 'r1'",
                database: fixture.database
            ).hasPrefix("t")
        }
        let taken = try queue.takeExpired(rescuer: "rescuer", leaseMilliseconds: 60_000)
        #expect(taken.map(\.claim.run.runID) == ["r1"] && taken[0].claim.fence.attempt == 2)
        #expect(taken[0].from == "attempt 1 by slow")
        #expect(try queue.heartbeat(claim.fence, leaseMilliseconds: 60_000) == .lost)
        // The stale worker wakes up and writes: refused, nothing stored.
        do {
            try recorder.append(.error, ["stage": "s", "message": "written after the takeover"])
            Issue.record("a fenced-out worker wrote to the trace")
        } catch {
            #expect(error.code == .readOnly && error.description.contains("fenced"), "\(error)")
        }
        #expect(try stale.events(runID: "r1").count == 2)
        #expect(try queue.end(claim.fence, state: "finished", status: "succeeded", reason: nil) == false)
        // The rescuer's own writes go through.
        let fresh = TraceStore(
            backend: try PostgresTraceBackend(session: try fixture.session(), fence: taken[0].claim.fence))
        let resumed = try RunRecorder.resuming(store: fresh, key: key, runID: "r1", trustedKeys: [key.publicKey])
        try resumed.finish(["status": "abandoned", "message": "rescued"])
        #expect(try queue.end(taken[0].claim.fence, state: "abandoned", status: "abandoned", reason: "rescued"))
        let verdict = TraceVerifier(trustedKeys: [key.publicKey]).verify(try fresh.bundle(runID: "r1"))
        #expect(verdict.status == .intact, "\(verdict.summary)")
        #expect(try fresh.run("r1").finishedStatus == "abandoned")
        let kinds = try queue.history("r1").map(\.kind)
        #expect(kinds == ["submitted", "claimed", "lease-expired", "abandoned"])
    }

    @Test func cancelStopsAQueuedRunAtOnceAndFlagsARunningOne() throws {
        let fixture = try QueueFixture("cancel")
        let queue = try fixture.queue()
        for id in ["a", "b"] {
            try queue.submit(workflow: fixture.workflow, parameters: [:], model: nil, principal: "ana", runID: id)
        }
        let claim = try #require(try queue.claim(worker: "w", leaseMilliseconds: 60_000))
        #expect(claim.run.runID == "a")
        #expect(try queue.cancel("b", by: "ana").state == "cancelled")
        #expect(try queue.claim(worker: "w", leaseMilliseconds: 60_000) == nil)
        #expect(try queue.cancel("a", by: "ana").state == "running")
        #expect(try queue.heartbeat(claim.fence, leaseMilliseconds: 60_000) == .renewed(cancelRequested: true))
        #expect(throws: QueueError.self) { try queue.cancel("b", by: "ana") }
        #expect(throws: QueueError.self) { try queue.show("nope") }
    }

    @Test func theWorkersRoleCannotRewriteTheQueuesHistory() throws {
        let fixture = try QueueFixture("history")
        try fixture.queue().submit(
            workflow: fixture.workflow, parameters: [:], model: nil, principal: "ana", runID: "a")
        for sql in [
            "UPDATE airlock.queue_events SET kind = 'x'", "DELETE FROM airlock.queue_events",
            "DELETE FROM airlock.queue",
        ] {
            #expect(throws: PostgresTestServerError.self, "\(sql)") {
                try fixture.server.psql(sql, user: "airlock_worker", database: fixture.database)
            }
        }
    }
}
