import Agent
import AirlockCore
import Foundation
import Model
import Policy
import Runs
import Sandbox
import Testing
import Tools
import Trace

/// A temporary AIRLOCK_HOME with the shipped tools registered, the sample datasets, a workspace,
/// a trace database and a signing key: everything a real run needs.
public struct AgentFixture {
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    public let home: URL
    public let registry: ToolRegistry
    public let context: ToolRunContext
    public let store: TraceStore
    public let key: TraceSigningKey

    /// A fresh directory the sandbox's unprivileged user can pass through.
    public static func directory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        return url
    }

    public init() throws {
        home = try Self.directory("airlock-agent-home")
        registry = ToolRegistry(home: home)
        let manifests = Self.repository.appendingPathComponent("manifests/tools")
        let files = try FileManager.default.contentsOfDirectory(atPath: manifests.path).filter { $0.hasSuffix(".yaml") }
        _ = try registry.add(files.sorted().map { try ManifestFile.load(manifests.appendingPathComponent($0)) })
        // The sample site as the docs set it up: datasets in site.yaml, the warehouse database built.
        let setup = Process()
        setup.executableURL = Self.repository.appendingPathComponent("tools/setup-sample-site")
        setup.environment = ["AIRLOCK_HOME": home.path, "PATH": "/usr/local/bin:/usr/bin:/bin"]
        setup.standardOutput = FileHandle.nullDevice
        try setup.run()
        setup.waitUntilExit()
        try #require(setup.terminationStatus == 0)
        for directory in ["datasets", "datasets/warehouse"] {
            try FileManager.default.setAttributes(
                [.posixPermissions: 0o711], ofItemAtPath: home.appendingPathComponent(directory).path)
        }
        let workspace = home.appendingPathComponent("workspaces/run-test")
        try FileManager.default.createDirectory(
            at: workspace.deletingLastPathComponent(), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o711])
        try FileManager.default.createDirectory(
            at: workspace, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        context = ToolRunContext(
            workspace: workspace,
            datasets: try SiteConfiguration.load(home.appendingPathComponent("site.yaml")).datasets)
        store = try TraceStore(path: home.appendingPathComponent("trace.sqlite").path)
        key = try TraceSigningKey.loadOrCreate(directory: home.appendingPathComponent("keys"))
    }

    /// A shipped workflow, optionally with other budgets.
    public static func workflow(_ name: String, budgets: Workflow.Budgets? = nil) throws -> Workflow {
        var workflow = try Workflow.load(repository.appendingPathComponent("manifests/workflows/\(name).yaml"))
        if let budgets { workflow.budgets = budgets }
        return workflow
    }

    /// A shipped workflow with its text edited (so that the recorded text, which a replay parses
    /// again, says what the run did).
    public static func workflow(_ name: String, editing edit: (String) -> String) throws -> Workflow {
        let url = repository.appendingPathComponent("manifests/workflows/\(name).yaml")
        let text = edit(try String(contentsOf: url, encoding: .utf8))
        var workflow = try Workflow(
            yaml: text, label: url.path, base: url.deletingLastPathComponent(), sha256: SHA256.hex(Array(text.utf8)))
        workflow.path = url.path
        return workflow
    }

    /// A loop over the real registry, policy and sandbox.
    public func loop(
        _ workflow: Workflow, model: any ChatModel, preApproved: [String] = [], maxConsecutiveDenials: Int = 3,
        sandbox: any SandboxRunning = Sandbox(), toolCalling: ToolCallingMode = .native,
        cancellation: TaskCancellation = TaskCancellation(), approver: (any Approver)? = nil
    ) throws -> AgentLoop {
        var configuration = AgentLoop.Configuration(
            user: "ana", preApproved: preApproved, approver: approver, maxConsecutiveDenials: maxConsecutiveDenials,
            toolCalling: toolCalling)
        configuration.cancellation = cancellation
        return AgentLoop(
            workflow: workflow, policy: try AgentLoop.loadPolicy(of: workflow), registry: registry,
            runner: ToolRunner(registry: registry, sandbox: sandbox), model: model, context: context,
            configuration: configuration)
    }

    /// Registers `slow.sleep`, a tool that marks `started` in the workspace and sleeps
    /// `seconds` (its manifest allows 60), and returns a workflow offering it alone under a policy
    /// that permits it, with `budgets` YAML (a flow mapping) if given.
    public func slowToolWorkflow(seconds: Int = 30, budgets: String = "{wall_seconds: 300}") throws -> Workflow {
        let directory = home.appendingPathComponent("slow-tool")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = SlowTool.script(seconds: seconds)
        let executable = directory.appendingPathComponent("sleep.sh")
        try Data(script.utf8).write(to: executable)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: executable.path)
        let manifest = directory.appendingPathComponent("slow.sleep.yaml")
        try Data(SlowTool.manifest(script: script).utf8).write(to: manifest)
        if (try? registry.resolve("slow.sleep")) == nil { _ = try registry.add([try ManifestFile.load(manifest)]) }
        try Data(SlowTool.policy.utf8).write(to: directory.appendingPathComponent("policy.yaml"))
        let text = SlowTool.workflow(policy: "policy.yaml", budgets: budgets)
        return try Workflow(yaml: text, label: "slow-tool.yaml", base: directory, sha256: SHA256.hex(Array(text.utf8)))
    }

    /// Waits (polling, up to a generous deadline: a loaded 2-core machine has taken over 30 s to
    /// start a first sandboxed tool) until `condition` holds.
    public static func waitUntil(_ what: String, seconds: Double = 120, _ condition: () throws -> Bool) async throws {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while try !condition() {
            guard Date() < deadline else {
                Issue.record("timed out waiting until \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The run's events as (type, payload), and its verification against the local key.
    public func trace(_ runID: String) throws -> (events: [(String, JSONValue)], verification: RunVerification) {
        let bundle = try store.bundle(runID: runID)
        let events = try store.events(runID: runID).map { event in
            let body = try JSONParser().parse(event.body)
            return (event.type, body["payload"] ?? .null)
        }
        return (events, TraceVerifier(trustedKeys: [key.publicKey]).verify(bundle))
    }
}
