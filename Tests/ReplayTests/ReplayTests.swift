import Agent
import AirlockCore
import AirlockTestSupport
import Foundation
import Model
import Policy
import Replay
import Sandbox
import Testing
import Tools

@testable import Trace

/// Replays of real runs: the shipped tools in the real sandbox under the shipped policy, a
/// scripted model, a real trace database; then the record re-driven through the real loop.
@Suite(
    "Replay of recorded runs", .serialized,
    .enabled(
        if: SandboxProbe.current.allLayersAvailable, "this host lacks a confinement layer (see `airlock sandbox probe`)"
    ))
struct ReplayTests {
    let fixture: AgentFixture

    init() throws {
        fixture = try AgentFixture()
    }

    static func response(_ calls: [(String?, String, String)] = [], content: String? = nil) -> ChatResponse {
        ChatResponse(
            message: ChatMessage(
                role: .assistant, content: content,
                toolCalls: calls.map { ModelToolCall(id: $0.0, name: $0.1, arguments: $0.2) }),
            finishReason: calls.isEmpty ? "stop" : "tool_calls")
    }

    /// The agent end-to-end test's mixed run: allowed, pre-approved, malformed and denied calls.
    func datasetRun() async throws -> String {
        let model = ScriptedModel(responses: [
            Self.response([
                ("q1", "sql.select", #"{"query": "SELECT name, region FROM sites ORDER BY id", "max_rows": 10}"#),
                (nil, "sql.select", #"{"query": "SELECT sku, quantity FROM items", "max_rows": 200}"#),
            ]),
            Self.response([
                ("bad", "csv.summarize", #"{"file": "incidents.csv", "file": "other.csv"}"#),
                ("out", "logs.search", #"{"pattern": "ERROR"}"#),
                ("csv", "csv.summarize", #"{"file": "incidents.csv"}"#),
            ]),
            Self.response(content: "3 sites; 8 incidents."),
        ])
        let loop = try fixture.loop(
            try AgentFixture.workflow("dataset-report"), model: model, preApproved: ["sql.select"])
        let outcome = try await loop.run(
            parameters: ["question": "How many sites and incidents?"], store: fixture.store, key: fixture.key)
        #expect(outcome.status == .succeeded)
        return outcome.runID
    }

    func replay(_ runID: String, whatIf: Policy? = nil) async throws -> ReplayReport {
        let run = try RecordedRun(runID: runID, store: fixture.store, trustedKeys: [fixture.key.publicKey])
        return try await Replayer().replay(run, whatIf: whatIf)
    }

    @Test("a run replays identically: every decision and every message fed back")
    func identical() async throws {
        let runID = try await datasetRun()
        let report = try await replay(runID)
        #expect(report.identical, "\(report.lines)")
        #expect(report.recordedEvents == report.replayedEvents)
        #expect(report.proposals == 5)
    }

    @Test("a model response edited and re-chained without the key is refused")
    func forgedResponseRefused() async throws {
        let runID = try await datasetRun()
        let events = try fixture.store.events(runID: runID)
        let target = try #require(events.first { $0.type == "model.response" })
        var prev = target.prevHash
        for event in events where event.seq >= target.seq {
            var body = event.body
            if event.seq == target.seq {
                let text = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "max_rows", with: "max_rowz")
                body = Array(text.utf8)
            }
            let hash = TraceStoredEvent.chainHash(prev: prev, body: body)
            try fixture.store.withDatabase { db throws(TraceError) in
                try db.execute("DROP TRIGGER IF EXISTS events_append_only_u", stage: "drop trigger")
                try db.query(
                    "UPDATE events SET body = ?, prev_hash = ?, hash = ? WHERE run_id = ? AND seq = ?",
                    [.blob(body), .blob(prev), .blob(hash), .text(runID), .integer(event.seq)], stage: "forge")
            }
            prev = hash
        }
        await #expect {
            try await replay(runID)
        } throws: { error in
            (error as? ReplayError)?.code == .unverified
        }
    }

    /// `value` with every blob reference replaced by its string, as the recorder was given it.
    func resolve(_ value: JSONValue) throws -> JSONValue {
        try TraceBlobs.resolving(value, blobs: [:]) { (digest, _) in
            .string(String(decoding: try #require(try fixture.store.blob(sha256: digest)), as: UTF8.self))
        }
    }

    /// A signed copy of `runID` under `copyID` whose `index`th tool.executed stdout says `stdout`.
    func copy(_ runID: String, as copyID: String, changingExecution index: Int, stdout: String) throws {
        let events = try fixture.store.events(runID: runID)
        let resolved = try events.map { try resolve(try JSONParser().parse($0.body)["payload"] ?? .null) }
        var recorder: RunRecorder?
        var executions = 0
        for (event, payload) in zip(events, resolved) {
            var payload = payload
            if event.type == "tool.executed" {
                if executions == index, case .object(var fields) = payload, case .object(var record)? = fields["record"]
                {
                    record["stdout"] = [
                        "text": .string(stdout), "keptBytes": .integer(Int64(stdout.utf8.count)),
                        "totalBytes": .integer(Int64(stdout.utf8.count)), "truncated": false,
                    ]
                    fields["record"] = .object(record)
                    payload = .object(fields)
                }
                executions += 1
            }
            if event.type == "run.started" {
                recorder = try RunRecorder(store: fixture.store, key: fixture.key, runID: copyID, started: payload)
            } else if event.type == "run.finished" {
                _ = try recorder?.finish(payload)
            } else {
                _ = try recorder?.append(try #require(TraceEventType(rawValue: event.type)), payload)
            }
        }
    }

    @Test("a different tool output in a copy shows as a divergence at that call's result")
    func changedToolOutputDiverges() async throws {
        let runID = try await datasetRun()
        try copy(runID, as: runID + "-copy", changingExecution: 0, stdout: #"{"rows": [["Nowhere", "none"]]}"#)
        let report = try await replay(runID + "-copy")
        let divergence = try #require(report.divergence)
        let events = try fixture.store.events(runID: runID)
        let firstResult = try #require(events.first { $0.type == "tool.result" })
        #expect(divergence.seq == firstResult.seq)
        #expect(divergence.step == 1)
        #expect(divergence.recordedType == "tool.result")
        #expect(divergence.pointer.hasPrefix("/content") || divergence.pointer.hasPrefix("/bytes"))
        #expect(divergence.replayed.stringValue?.contains("Nowhere") == true || divergence.pointer == "/bytes")
    }

    @Test("what-if: a policy that forbids csv.summarize flips exactly its allowed call")
    func whatIfFlips() async throws {
        let runID = try await datasetRun()
        let url = AgentFixture.repository.appendingPathComponent("manifests/policies/workflows.yaml")
        let text =
            try String(contentsOf: url, encoding: .utf8) + """

                  - id: whatif.no-csv
                    effect: forbid
                    when:
                      tools: [csv.summarize]
                    reason: "csv.summarize is withdrawn."
                    tags: [maestro:L3]

                """
        let report = try await replay(runID, whatIf: try Policy(yaml: text))
        #expect(report.identical)
        #expect(report.flips.count == 1)
        let flip = try #require(report.flips.first)
        #expect(flip.callID == "csv")
        #expect(flip.kind == "allow→deny")
        #expect(flip.fromRules == ["permit.dataset-report"])
        #expect(flip.toRules.contains("whatif.no-csv"))
        let unchanged = try await replay(runID, whatIf: try Policy(yaml: try String(contentsOf: url, encoding: .utf8)))
        #expect(unchanged.flips.isEmpty)
    }

    @Test("trace diff: a run against itself, against a copy with another output, against another run")
    func traceDiff() async throws {
        let runID = try await datasetRun()
        let keys = [fixture.key.publicKey]
        let a = try RecordedRun(runID: runID, store: fixture.store, trustedKeys: keys)
        let itself = try TraceDiff(a, a)
        #expect(itself.identical && itself.events.isEmpty)
        #expect(
            itself.summary.map(\.name) == ["answer", "status", "model", "parameters", "workflow", "policy", "tools"])

        try copy(runID, as: runID + "-copy", changingExecution: 1, stdout: #"{"rows": []}"#)
        let b = try RecordedRun(runID: runID + "-copy", store: fixture.store, trustedKeys: keys)
        let changed = try TraceDiff(a, b)
        #expect(changed.summary.allSatisfy { $0.same })
        // Only the execution record was changed in the copy: its stdout, every field of it.
        #expect(changed.events.count == 1)
        let event = try #require(changed.events.first)
        #expect(event.type == "tool.executed")
        #expect(event.stepA == 1 && event.stepB == 1 && event.onlyIn == nil)
        let text = try #require(event.changes.first { $0.pointer == "/record/stdout/text" })
        #expect(text.b == #"{"rows": []}"#)
        #expect(
            Set(event.changes.map(\.pointer)).isSubset(of: [
                "/record/stdout/text", "/record/stdout/keptBytes", "/record/stdout/totalBytes",
            ]))

        let model = ScriptedModel(responses: [
            Self.response([
                ("q1", "sql.select", #"{"max_rows": 10, "query": "SELECT name, region FROM sites ORDER BY id"}"#),
                ("csv", "csv.summarize", #"{"file": "incidents.csv"}"#),
            ]),
            Self.response(content: "done"),
        ])
        let loop = try fixture.loop(
            try AgentFixture.workflow("dataset-report"), model: model, preApproved: ["sql.select"])
        let other = try await loop.run(parameters: ["question": "Other?"], store: fixture.store, key: fixture.key)
        let c = try RecordedRun(runID: other.runID, store: fixture.store, trustedKeys: keys)
        let diff = try TraceDiff(a, c)
        #expect(diff.summary.first { $0.name == "parameters" }?.same == false)
        #expect(diff.summary.first { $0.name == "answer" }?.b == "done")
        // Key order does not matter: q1 aligns; the second query and the malformed/out calls are A's only.
        let proposals = diff.events.filter { $0.type == "tool.proposed" }
        #expect(proposals.filter { $0.onlyIn == .a }.count == 3, "\(proposals.map(\.call))")
        #expect(proposals.contains { $0.onlyIn == .a && $0.call?.hasPrefix("logs.search") == true })
        #expect(!proposals.contains { $0.call?.hasPrefix("sql.select {\"max_rows\":10") == true })
        // The call ids differ (q1 in both, but `call-1-2` against `csv`): they are not compared.
        #expect(!diff.events.contains { $0.changes.contains { $0.pointer == "/call_id" } })
    }

    @Test("re-execution in the sandbox matches the record, and detects a tool whose output changed")
    func reexecution() async throws {
        let runID = try await datasetRun()
        let keys = [fixture.key.publicKey]
        let runner = ToolRunner(registry: fixture.registry)
        let again = try await Reexecution(
            try RecordedRun(runID: runID, store: fixture.store, trustedKeys: keys), runner: runner,
            context: fixture.context)
        #expect(again.calls.count == 3)
        #expect(again.same, "\(again.lines)")

        try copy(runID, as: runID + "-copy", changingExecution: 2, stdout: #"{"rows": 0}"#)
        let changed = try await Reexecution(
            try RecordedRun(runID: runID + "-copy", store: fixture.store, trustedKeys: keys), runner: runner,
            context: fixture.context, current: true)
        #expect(changed.calls.map(\.same) == [true, true, false])
        #expect(changed.calls.last?.recordedTool.hasPrefix("csv.summarize@") == true)
        #expect(changed.calls.last?.recordedOutput == #"{"rows": 0}"#)
        // Printed as every difference is: the output now is long, so both sides from where they part.
        let lines = changed.lines()
        #expect(lines.contains(#"    recorded: @2 of 11: "{\"rows\": 0}""#), "\(lines)")
        #expect(lines.contains { $0.hasPrefix(#"    now:      @2 of "#) && $0.contains(#""{\"columns\""#) })
        // --full: both outputs whole.
        let whole = changed.lines(full: true)
        #expect(whole.contains(#"    recorded: "{\"rows\": 0}""#), "\(whole)")
        #expect(whole.contains { $0.hasPrefix(#"    now:      "{\"columns\""#) })
    }
}
