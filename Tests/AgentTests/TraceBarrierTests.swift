import Agent
import AirlockCore
import AirlockTestSupport
import Foundation
import Model
import Sandbox
import Synchronization
import Testing
import Trace

/// The loop's commit barriers, counted at the backend: a step of a tool call is two durable
/// transactions (before the tool runs, once its result is recorded), whatever it records.
@Suite(
    "Agent trace barriers", .serialized,
    .enabled(
        if: SandboxProbe.current.allLayersAvailable, "this host lacks a confinement layer (see `airlock sandbox probe`)"
    ))
struct TraceBarrierTests {
    let fixture: AgentFixture

    init() throws {
        fixture = try AgentFixture()
    }

    func client(_ server: ChatTestServer) throws -> OpenAIChatClient {
        try OpenAIChatClient(endpoint: .unix(path: server.path, requestPath: "/v1/chat/completions"))
    }

    @Test("a tool-call step commits twice: before the tool runs and after its result; the run still verifies")
    func twoCommitsPerStep() async throws {
        let server = try ChatTestServer(replies: [
            .completion(calls: [
                ("q1", "sql.select", #"{"query": "SELECT name FROM sites ORDER BY id", "max_rows": 200}"#)
            ]),
            .completion(calls: [("csv", "csv.summarize", #"{"file": "incidents.csv"}"#)]),
            .completion(content: "done"),
        ])
        defer { server.stop() }
        let counting = ForwardingTraceBackend(fixture.store.backend)
        let store = TraceStore(backend: counting)
        let loop = try fixture.loop(
            try AgentFixture.workflow("dataset-report"), model: try client(server), preApproved: ["sql.select"])
        let outcome = try await loop.run(parameters: ["question": "Which sites?"], store: store, key: fixture.key)
        #expect(outcome.status == .succeeded, "\(outcome.message)")

        let step = ["model.request", "model.response", "tool.proposed", "policy.decision"]
        // 200 rows ask (approval.large-extract) and sql.select is pre-approved: nobody waits, so the approval is held to the barrier.
        let approved = ["approval.requested", "approval.granted", "policy.decision"]
        #expect(
            counting.transactions == [
                ["run.started"],
                step + approved, ["tool.executed", "tool.result"],
                step, ["tool.executed", "tool.result"],
                ["model.request", "model.response", "run.finished"],
            ])
        let bundle = try fixture.store.bundle(runID: outcome.runID)
        #expect(TraceVerifier(trustedKeys: [fixture.key.publicKey]).verify(bundle).status == .intact)
        // Each commit holding a step boundary is signed at its last event.
        #expect(bundle.checkpoints.map(\.seq) == [1, 8, 10, 14, 16, 19])
    }

    /// An approver that reads the trace when it is asked.
    final class ReadingApprover: Approver {
        let store: TraceStore
        let seen = Mutex<[String]>([])
        init(store: TraceStore) { self.store = store }
        func decide(_ request: ApprovalRequest) async -> ApprovalAnswer {
            let types = (try? store.events(runID: request.runID).map(\.type)) ?? []
            seen.withLock { $0 = types }
            return ApprovalAnswer(granted: false, approver: "ben", reason: "not today", source: .terminal)
        }
    }

    @Test("a person is asked only once the request is on disk")
    func theRequestIsCommittedBeforeAPersonIsAsked() async throws {
        let server = try ChatTestServer(replies: [
            .completion(calls: [
                ("q1", "sql.select", #"{"query": "SELECT name FROM sites ORDER BY id", "max_rows": 200}"#)
            ]),
            .completion(content: "done"),
        ])
        defer { server.stop() }
        let approver = ReadingApprover(store: fixture.store)
        let loop = try fixture.loop(
            try AgentFixture.workflow("dataset-report"), model: try client(server), approver: approver)
        let outcome = try await loop.run(
            parameters: ["question": "Which sites?"], store: fixture.store, key: fixture.key)
        #expect(outcome.status == .succeeded, "\(outcome.message)")
        #expect(
            approver.seen.withLock { $0 } == [
                "run.started", "model.request", "model.response", "tool.proposed", "policy.decision",
                "approval.requested",
            ])
    }
}
