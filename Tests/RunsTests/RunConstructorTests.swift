import Agent
import AirlockCore
import AirlockTestSupport
import Foundation
import Replay
import Runs
import Testing
import Trace

/// The one constructor, used as a front door uses it: a live run assembled from a home (the
/// registry, the site's datasets, the workflow's policy, a scripted model through the air-gap
/// rule), recorded, then assembled again from its record alone and re-driven identically; and
/// every way assembly can fail, each with its code and nothing recorded.
@Suite("RunConstructor: live from a home, recorded from a trace")
struct RunConstructorTests {
    let fixture: AgentFixture
    let constructor: RunConstructor

    init() throws {
        fixture = try AgentFixture()
        constructor = RunConstructor(home: AirlockHome(root: fixture.home))
    }

    var workflow: URL { AgentFixture.repository.appendingPathComponent("manifests/workflows/log-triage.yaml") }

    func script(_ text: String) throws -> String {
        let url = fixture.home.appendingPathComponent("script-\(UUID().uuidString.prefix(6)).yaml")
        try Data(text.utf8).write(to: url)
        return "script:" + url.path
    }

    func request(model: String, _ change: (inout RunRequest) -> Void = { _ in }) -> RunRequest {
        var request = RunRequest(
            workflow: workflow, parameters: ["level": "ERROR"], model: .endpoint(model), principal: "ana")
        change(&request)
        return request
    }

    @Test func aLiveRunIsAssembledFromTheHomeAndItsRecordRebuildsIt() async throws {
        let model = try script(
            """
            responses:
              - tool_calls:
                  - {name: logs.search, arguments: {pattern: ERROR, max_matches: 5}}
              - content: "Two ledger timeouts."
            """)
        let prepared = try constructor.live(request(model: model) { $0.runID = "constructed-1" })
        // The site's datasets and a new workspace under the home came with it.
        #expect(prepared.loop.context.datasets["logs"] != nil)
        #expect(prepared.workspace?.path.hasPrefix(fixture.home.appendingPathComponent("workspaces").path) == true)
        #expect(prepared.loop.configuration.toolCalling == .native)
        let (store, key) = try constructor.trace()
        let outcome = try await prepared.run(store: store, key: key)
        #expect(outcome.status == .succeeded)
        #expect(outcome.executed == 1)

        let recorded = try RecordedRun(runID: "constructed-1", store: store, trustedKeys: [key.publicKey])
        let rebuilt = try RunConstructor.recorded(
            runID: recorded.runID, started: try recorded.started(), events: try recorded.typedEvents(),
            times: recorded.events.map(\.time))
        // The same setup, from the record alone: no registry, no model, no site.
        #expect(rebuilt.loop.workflow.text == prepared.loop.workflow.text)
        #expect(rebuilt.loop.policyDocument.text == prepared.loop.policyDocument.text)
        #expect(rebuilt.parameters == ["level": "ERROR", "title": "Log triage"])
        #expect(rebuilt.loop.context.datasets == prepared.loop.context.datasets)
        let report = try await Replayer().replay(recorded)
        #expect(report.identical, "\(report.lines())")
    }

    @Test func everyFailureOfAssemblyHasItsCodeAndRecordsNothing() throws {
        let model = try script("responses:\n  - content: done\n")
        func code(_ request: RunRequest) -> RunsError.Code? {
            #expect(throws: RunsError.self) { try constructor.live(request) }?.code
        }
        #expect(
            code(request(model: model) { $0.workflow = fixture.home.appendingPathComponent("none.yaml") }) == .notFound)
        #expect(code(request(model: model) { $0.preApproved = ["shell.exec"] }) == .usage)
        #expect(code(request(model: model) { $0.toolCalling = "grammar" }) == .usage)
        #expect(code(request(model: "ftp://somewhere")) == .usage)
        #expect(code(request(model: "script:" + fixture.home.appendingPathComponent("absent.yaml").path)) == .notFound)
        #expect(code(request(model: try script("responses: 7\n"))) == .invalidInput)
        let badWorkflow = fixture.home.appendingPathComponent("bad.yaml")
        try Data("airlock_workflow: 1\nname: bad\nmodle: {}\n".utf8).write(to: badWorkflow)
        #expect(code(request(model: model) { $0.workflow = badWorkflow }) == .invalidInput)
        // A misspelt site key stops every run of the home, naming the key.
        let site = fixture.home.appendingPathComponent("site.yaml")
        let original = try Data(contentsOf: site)
        try Data(original + Data("model_host: [gpu1]\n".utf8)).write(to: site)
        let siteError = #expect(throws: RunsError.self) { try constructor.live(request(model: model)) }
        #expect(siteError?.code == .invalidInput)
        #expect(siteError?.message.contains("/model_host") == true)
        try original.write(to: site)
        // Nothing was recorded by any of them.
        #expect(try fixture.store.runs().isEmpty)
    }

    /// A valid workflow whose model cannot be had is a run: started, its model request failing
    /// with the reason, finished `model_unreachable`, and replayed identically.
    @Test func aModelThatCannotBeHadIsARecordedRun() async throws {
        let (store, key) = try constructor.trace()
        let cases: [(RunRequest.ModelChoice, String)] = [
            (.embedded, "no embedded model is installed"),
            (.endpoint("http://models.example.com:8080"), "model_hosts"),
        ]
        for (index, (choice, reason)) in cases.enumerated() {
            let runID = "unavailable-\(index)"
            let prepared = try constructor.live(
                request(model: "unused") {
                    $0.model = choice
                    $0.runID = runID
                })
            let outcome = try await prepared.run(store: store, key: key)
            #expect(outcome.status == .modelUnreachable)
            #expect(outcome.message.contains(reason), "\(outcome.message)")
            let recorded = try RecordedRun(runID: runID, store: store, trustedKeys: [key.publicKey])
            #expect(recorded.events.first?.type == "run.started")
            #expect(recorded.events.last?.type == "run.finished")
            let report = try await Replayer().replay(recorded)
            #expect(report.identical, "\(report.lines())")
        }
        // The embedded choice offers tools as the embedded model would have been offered them.
        let started = try RecordedRun(runID: "unavailable-0", store: store, trustedKeys: [key.publicKey]).started()
        #expect(started.model.toolCalling == .constrained)
    }

    @Test func parametersAreKeyEqualsValue() throws {
        #expect(try RunRequest.parameters(["level=ERROR", "title=a=b"]) == ["level": "ERROR", "title": "a=b"])
        #expect(throws: RunsError.self) { try RunRequest.parameters(["=x"]) }
        #expect(throws: RunsError.self) { try RunRequest.parameters(["level"]) }
    }
}
