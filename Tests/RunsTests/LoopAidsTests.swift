import Agent
import AirlockCore
import AirlockTestSupport
import Foundation
import Model
import Replay
import RunEvents
import Runs
import Testing
import Trace

/// What the loop does to give a small model a run it can finish: a workflow's `plan:` runs fixed
/// calls first, recorded as the author's; a result over `model.tool_result_bytes` is shown to the
/// model summarised and kept whole in the record; the embedded model's requests keep the prompt
/// cached. Each through a live run assembled by the constructor, and replayed from its record.
@Suite("the loop's aids for small models")
struct LoopAidsTests {
    let fixture: AgentFixture
    let constructor: RunConstructor

    init() throws {
        fixture = try AgentFixture()
        constructor = RunConstructor(home: AirlockHome(root: fixture.home))
    }

    func file(_ name: String, _ text: String) throws -> URL {
        let url = fixture.home.appendingPathComponent("\(UUID().uuidString.prefix(6))-\(name)")
        try Data(text.utf8).write(to: url)
        return url
    }

    /// The shipped log-triage workflow with `edit` applied, its policy named by absolute path.
    func workflow(_ edit: (String) -> String) throws -> URL {
        let shipped = AgentFixture.repository.appendingPathComponent("manifests/workflows/log-triage.yaml")
        let policy = AgentFixture.repository.appendingPathComponent("manifests/policies/workflows.yaml").path
        let text = try String(contentsOf: shipped, encoding: .utf8)
            .replacingOccurrences(of: "policy: ../policies/workflows.yaml", with: "policy: \(policy)")
        let edited = edit(text)
        #expect(edited != text)
        return try file("workflow.yaml", edited)
    }

    func run(_ workflow: URL, script: String, level: String = "ERROR") async throws -> (AgentRunOutcome, RecordedRun) {
        let model = try file("script.yaml", script)
        let prepared = try constructor.live(
            RunRequest(
                workflow: workflow, parameters: ["level": level], model: .endpoint("script:" + model.path),
                principal: "ana"))
        #expect(prepared.loop.configuration.promptCache == false, "a script is not asked to cache")
        let (store, key) = try constructor.trace()
        let outcome = try await prepared.run(store: store, key: key)
        return (outcome, try RecordedRun(runID: outcome.runID, store: store, trustedKeys: [key.publicKey]))
    }

    @Test func aPlanRunsBeforeTheModelIsAskedAsTheAuthorsAndReplaysIdentically() async throws {
        let workflow = try workflow {
            $0.replacingOccurrences(
                of: "policy: /",
                with: "plan:\n  - {tool: logs.search, arguments: {pattern: \"{{level}}\", glob: app.log}}\npolicy: /")
        }
        let (outcome, recorded) = try await run(workflow, script: "responses:\n  - content: Two ledger timeouts.\n")
        #expect(outcome.status == .succeeded)
        #expect(outcome.executed == 1)
        #expect(outcome.steps == 1)
        let events = try recorded.typedEvents()
        let proposal = try #require(events.compactMap { if case .toolProposed(let p) = $0 { p } else { nil } }.first)
        #expect(proposal.origin == "plan")
        #expect(proposal.step == 0)
        #expect(proposal.callID == "plan-1")
        #expect(proposal.arguments == ["pattern": "ERROR", "glob": "app.log"])
        // It went through the policy like any call, and ran before the first model request.
        let types = events.map { event -> String in
            switch event {
            case .toolProposed: "proposed"
            case .policyDecision: "decision"
            case .toolExecuted: "executed"
            case .modelRequest: "request"
            default: ""
            }
        }.filter { !$0.isEmpty }
        #expect(Array(types.prefix(4)) == ["proposed", "decision", "executed", "request"])
        let request = try #require(events.compactMap { if case .modelRequest(let r) = $0 { r } else { nil } }.first)
        #expect(request.messages.contains { $0.role == .tool && ($0.content ?? "").contains("ledger") })
        let report = try await Replayer().replay(recorded)
        #expect(report.identical, "\(report.lines())")
    }

    @Test func aPlanWithAToolOutsideTheWorkflowIsAProblemAtItsLine() throws {
        let workflow = try workflow {
            $0.replacingOccurrences(
                of: "policy: /", with: "plan:\n  - {tool: sql.select, arguments: {q: \"{{nope}}\"}}\npolicy: /")
        }
        #expect {
            _ = try Workflow.load(workflow)
        } throws: { error in
            let text = "\(error)"
            return text.contains("/plan/0/tool") && text.contains("one of the workflow's tools")
        }
    }

    @Test func aResultOverTheBudgetIsSummarisedForTheModelAndWholeInTheRecord() async throws {
        let workflow = try workflow {
            $0.replacingOccurrences(of: "  seed: 7\n", with: "  seed: 7\n  tool_result_bytes: 400\n")
        }
        let (outcome, recorded) = try await run(
            workflow,
            script:
                "responses:\n  - tool_calls: [{name: logs.search, arguments: {pattern: 'INFO|WARN|ERROR'}}]\n  - content: Done.\n"
        )
        #expect(outcome.status == .succeeded)
        let events = try recorded.typedEvents()
        let result = try #require(events.compactMap { if case .toolResult(let r) = $0 { r } else { nil } }.first)
        let executed = try #require(events.compactMap { if case .toolExecuted(let e) = $0 { e } else { nil } }.first)
        let whole = executed.record.stdout.text
        #expect(result.summarisedFrom == whole.utf8.count, "\(result)")
        #expect(result.content.utf8.count <= 400)
        let summary = try JSONParser().parse(result.content)
        let note = try #require(summary[ToolResultSummary.noteKey]?.stringValue)
        let all = try #require(try JSONParser().parse(whole)["matches"]?.arrayValue)
        let shown = try #require(summary["matches"]?.arrayValue)
        #expect(shown.count < all.count && !shown.isEmpty)
        #expect(note.hasPrefix("\(shown.count) of \(all.count) matches shown"), "\(note)")
        #expect(Array(all.prefix(shown.count)) == shown)
        let report = try await Replayer().replay(recorded)
        #expect(report.identical, "\(report.lines())")
    }

    @Test func afterARepeatTheModelIsAskedForItsAnswer() async throws {
        let workflow = try workflow {
            $0.replacingOccurrences(of: "  seed: 7\n", with: "  seed: 7\n  answer_after_repeat: true\n")
        }
        let call = "  - tool_calls: [{name: logs.search, arguments: {pattern: ERROR}}]\n"
        let (outcome, recorded) = try await run(
            workflow, script: "responses:\n" + call + call + "  - content: Two ledger timeouts.\n")
        #expect(outcome.status == .succeeded)
        let requests = try recorded.typedEvents().compactMap { if case .modelRequest(let r) = $0 { r } else { nil } }
        #expect(requests.map { $0.answerOnly == nil } == [true, true, false])
        #expect(requests[2].answerOnly?.contains("model.answer_after_repeat") == true)
        let report = try await Replayer().replay(recorded)
        #expect(report.identical, "\(report.lines())")
    }

    @Test func textOverTheBudgetKeepsItsBeginningAndSaysSo() throws {
        let text = String(repeating: "line of output\n", count: 100)
        let summary = try #require(ToolResultSummary.summarised(text, budget: 300))
        #expect(summary.utf8.count <= 300)
        #expect(summary.hasPrefix("line of output\nline"))
        #expect(summary.contains("the result was 1500 bytes"))
        #expect(ToolResultSummary.summarised("short", budget: 300) == nil)
    }

    @Test func thePromptCacheIsAskedForOnlyWhenTheLoopSaysSo() {
        var request = ChatRequest(messages: [ChatMessage(role: .user, content: "hi")])
        #expect(request.json["cache_prompt"] == nil)
        request.cachePrompt = true
        #expect(request.json["cache_prompt"] == true)
    }
}
