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
struct AgentFixture {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    let home: URL
    let registry: ToolRegistry
    let context: ToolRunContext
    let store: TraceStore
    let key: TraceSigningKey

    /// A fresh directory the sandbox's unprivileged user can pass through.
    static func directory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        return url
    }

    init() throws {
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
    static func workflow(_ name: String, budgets: Workflow.Budgets? = nil) throws -> Workflow {
        var workflow = try Workflow.load(repository.appendingPathComponent("manifests/workflows/\(name).yaml"))
        if let budgets { workflow.budgets = budgets }
        return workflow
    }

    /// A loop over the real registry, policy and sandbox.
    func loop(
        _ workflow: Workflow, model: any ChatModel, preApproved: [String] = [], maxConsecutiveDenials: Int = 3,
        sandbox: any SandboxRunning = Sandbox(), toolCalling: ToolCallingMode = .native
    ) throws -> AgentLoop {
        AgentLoop(
            workflow: workflow, policy: try AgentLoop.loadPolicy(of: workflow), registry: registry,
            runner: ToolRunner(registry: registry, sandbox: sandbox), model: model, context: context,
            configuration: AgentLoop.Configuration(
                user: "ana", preApproved: preApproved, maxConsecutiveDenials: maxConsecutiveDenials,
                toolCalling: toolCalling))
    }

    /// The run's events as (type, payload), and its verification against the local key.
    func trace(_ runID: String) throws -> (events: [(String, JSONValue)], verification: RunVerification) {
        let bundle = try store.bundle(runID: runID)
        let events = try store.events(runID: runID).map { event in
            let body = try JSONParser().parse(event.body)
            return (event.type, body["payload"] ?? .null)
        }
        return (events, TraceVerifier(trustedKeys: [key.publicKey]).verify(bundle))
    }
}
