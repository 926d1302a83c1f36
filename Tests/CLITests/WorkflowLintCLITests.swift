import AirlockCore
import Foundation
import Testing

/// Checking a workflow before it runs, through the built binary: `airlock workflow lint` reports
/// every problem at once with its pointer and line, and `airlock run --dry-run` shows what would
/// run and starts, creates and records nothing.
@Suite("airlock workflow lint and run --dry-run (CLI)", .serialized)
final class WorkflowLintCLITests {
    let home: URL
    let scratch: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }

    init() throws {
        home = try SampleSite.make("airlock-lint-home")
        scratch = try CLI.temporaryDirectory("airlock-lint-scratch")
    }

    deinit {
        try? FileManager.default.removeItem(at: home)
        try? FileManager.default.removeItem(at: scratch)
    }

    func run(_ arguments: [String], environment: [String: String]? = nil) throws -> CLIResult {
        try CLI.run(arguments, environment: environment ?? env)
    }

    func file(_ name: String, _ text: String) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    static var shipped: [URL] {
        let directory = SampleSite.root.appendingPathComponent("manifests/workflows")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// The 1-based line of the first line of `text` that contains `needle`.
    static func line(of needle: String, in text: String) -> Int? {
        text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(needle) }.map { $0 + 1 }
    }

    @Test func theShippedWorkflowsLintClean() throws {
        try #require(Self.shipped.count >= 2)
        for workflow in Self.shipped {
            let lint = try run(["workflow", "lint", workflow.path])
            #expect(lint.status == 0, "\(workflow.lastPathComponent): \(lint.stdout)\(lint.stderr)")
            #expect(lint.stdout.contains(": ok: workflow "), "\(lint.stdout)")
        }
    }

    static let troubled = """
        airlock_workflow: 1
        name: troubled
        description: Several things wrong at once.
        system_prompt: You are careful.
        task: Triage {{level}} lines.
        parameters:
          level: {type: integer, default: ERROR}
        tools: [logs.search, logs.grep, workspace.note]
        policy: ../nowhere/policy.yaml
        budgets:
          max_steps: 5000
          max_tool_calls: 3
          wall_seconds: 0
        colour: blue

        """

    @Test func lintReportsEveryProblemAtOnceEachWithItsPointerAndLine() throws {
        let path = try file("troubled.yaml", Self.troubled)
        let lint = try run(["workflow", "lint", path])
        #expect(lint.status == 65, "\(lint.stdout)\(lint.stderr)")
        let text = Self.troubled
        for (pointer, needle, message) in [
            ("/parameters/level/default", "level:", "must be of type integer"),
            ("/tools/1", "tools:", "logs.grep is not registered in"),
            ("/policy", "policy:", "no policy file at"),
            ("/budgets/max_steps", "max_steps", "must be an integer from 1 to 1000"),
            ("/budgets/wall_seconds", "wall_seconds", "must be a number from 1 to 86400"),
            ("/colour", "colour", "unknown field"),
        ] {
            let line = try #require(Self.line(of: needle, in: text))
            #expect(
                lint.stdout.contains("\(path):\(line): error: \(pointer): \(message)"), "\(pointer):\n\(lint.stdout)")
        }
        #expect(lint.stdout.contains("6 problem(s)"), "\(lint.stdout)")

        let json = try JSONParser().parse(try run(["workflow", "lint", path, "--json"]).stdout)
        #expect(json["ok"] == false)
        let problems = try #require(json["problems"]?.arrayValue)
        #expect(problems.count == 6)
        #expect(problems.allSatisfy { $0["line"]?.integerValue != nil && $0["pointer"]?.stringValue != nil })
        // The registered tools are shown with their versions and digests.
        #expect(
            json["tools"]?.arrayValue?.compactMap { $0["tool"]?.stringValue } == [
                "logs.search@1.0.0", "workspace.note@1.0.0",
            ])
    }

    @Test func aPolicyThatDoesNotLoadIsReportedAtItsOwnLines() throws {
        let policy = "airlock_policy: 1\nname: x\nrules:\n  - {id: a, effect: maybe, reason: r, tags: [asi:02]}\n"
        let policyPath = try file("broken-policy.yaml", policy)
        let workflow = Self.troubled.replacingOccurrences(of: "../nowhere/policy.yaml", with: "broken-policy.yaml")
        let path = try file("with-broken-policy.yaml", workflow)
        let lint = try run(["workflow", "lint", path])
        #expect(lint.status == 65)
        let policyLine = try #require(Self.line(of: "policy:", in: workflow))
        #expect(lint.stdout.contains("\(path):\(policyLine): error: /policy: the policy \(policyPath) does not load"))
        #expect(
            lint.stdout.contains(
                "\(policyPath):4: error: /rules/0/effect: must be one of forbid, require_approval, permit (found \"maybe\")"
            ), "\(lint.stdout)")
    }

    @Test func aMissingFileAndAFileThatIsNotYAML() throws {
        let missing = try run(["workflow", "lint", scratch.appendingPathComponent("nope.yaml").path])
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("no workflow file at"))
        let garbage = try run(["workflow", "lint", try file("garbage.yaml", "name: [unclosed\n")])
        #expect(garbage.status == 65)
        #expect(garbage.stdout.contains("not valid YAML"), "\(garbage.stdout)")
    }

    /// What a dry run must leave as it found it: no run in the trace, no workspace, no model server.
    func expectNothingHappened() throws {
        let list = try run(["trace", "list", "--json"])
        #expect(try JSONParser().parse(list.stdout) == [], "\(list.stdout)")
        let workspaces = home.appendingPathComponent("workspaces")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: workspaces.path)) ?? []).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("run/model-server.json").path))
    }

    @Test func aDryRunOfEachShippedWorkflowShowsWhatWouldRunAndRecordsNothing() throws {
        let model = try file("model.yaml", "responses:\n  - content: never asked\n")
        for workflow in Self.shipped {
            let parameters =
                workflow.lastPathComponent == "dataset-report.yaml" ? ["--param", "question=How many?"] : []
            let dry = try run(["run", workflow.path, "--dry-run", "--model", "script:" + model] + parameters)
            #expect(dry.status == 0, "\(workflow.lastPathComponent): \(dry.stdout)\(dry.stderr)")
            #expect(dry.stdout.contains("nothing was started, created or recorded"))
            #expect(dry.stdout.contains("policy:       shipped-workflows, digest "), "\(dry.stdout)")
            #expect(dry.stdout.contains("model:        scripted"), "\(dry.stdout)")
            #expect(dry.stdout.contains("budgets:      "))
            #expect(dry.stdout.contains("problems:     none"))
            // Every tool with its version and its pinned digest, as registered.
            let json = try JSONParser().parse(
                try run(["run", workflow.path, "--dry-run", "--json", "--model", "script:" + model] + parameters).stdout
            )
            let tools = try #require(json["tools"]?.arrayValue)
            #expect(!tools.isEmpty)
            for tool in tools {
                let reference = try #require(tool["tool"]?.stringValue)
                #expect(dry.stdout.contains(reference))
                let registered = try JSONParser().parse(try run(["tools", "show", reference, "--json"]).stdout)["facts"]
                let pinned = try #require(tool["executable_sha256"]?.stringValue)
                #expect(registered?["pinned_digest"]?.stringValue == pinned, "\(reference)")
                #expect(registered?["manifest_sha256"] == tool["manifest_sha256"])
                #expect(dry.stdout.contains("executable sha256:\(pinned) (the stored copy matches its pin)"))
            }
            #expect(json["budgets"]?["max_steps"]?.integerValue != nil)
        }
        try expectNothingHappened()
    }

    @Test(.enabled(if: InstalledModel.enabled, InstalledModel.skipReason))
    func aDryRunOnTheEmbeddedModelNamesItAndStartsNothing() throws {
        try #require(InstalledModel.available, "no installed model in \(InstalledModel.store)")
        let workflow = SampleSite.root.appendingPathComponent("manifests/workflows/log-triage.yaml").path
        let dry = try run(
            ["run", workflow, "--dry-run"],
            environment: env.merging(["AIRLOCK_MODEL_HOME": InstalledModel.store]) { $1 })
        #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("model:        embedded smollm2-135m-instruct"), "\(dry.stdout)")
        #expect(dry.stdout.contains("tool calling: constrained"))
        try expectNothingHappened()
    }

    @Test func aDryRunReportsEveryProblemOfTheRequestAtOnce() throws {
        let workflow = SampleSite.root.appendingPathComponent("manifests/workflows/log-triage.yaml").path
        let dry = try run([
            "run", workflow, "--dry-run", "--param", "levle=WARN", "--approve", "sql.select", "--model",
            "script:" + scratch.appendingPathComponent("no-such-script.yaml").path,
        ])
        #expect(dry.status == 65, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("3 problem(s):"), "\(dry.stdout)")
        #expect(dry.stdout.contains("/parameters: --param levle: workflow log-triage has no such parameter"))
        #expect(dry.stdout.contains("/tools: --approve sql.select: not one of workflow log-triage's tools"))
        #expect(dry.stdout.contains("--model: error: "), "\(dry.stdout)")
        let troubled = try file("troubled.yaml", Self.troubled)
        let bad = try run(["run", troubled, "--dry-run", "--json"])
        #expect(bad.status == 65)
        let json = try JSONParser().parse(bad.stdout)
        #expect(json["ok"] == false)
        #expect((json["problems"]?.arrayValue?.count ?? 0) >= 6, "\(bad.stdout)")
        let missing = try run(["run", scratch.appendingPathComponent("nope.yaml").path, "--dry-run"])
        #expect(missing.status == 66)
        try expectNothingHappened()
    }
}
