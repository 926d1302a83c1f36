import Agent
import AirlockCore
import Foundation
import Model
import Sandbox
import Tools
import Trace

/// The setting the agent and replay benchmarks run in: `logs.search` registered in a scratch
/// directory, a policy that permits it in workflow `bench`, a workspace, the sample logs, a trace,
/// and one real sandboxed execution whose record the instant sandbox hands back.
struct AgentSetting: Sendable {
    /// The registry (`logs.search` only).
    let registry: ToolRegistry
    /// The permissive bench policy file.
    let policyURL: URL
    /// The workspace and the sample logs dataset.
    let context: ToolRunContext
    /// The trace.
    let store: TraceStore
    /// A fresh signing key.
    let key: TraceSigningKey
    /// One real run of `logs.search {"pattern": "ERROR"}`.
    let sample: ToolRunResult
    /// The real sandbox's host identity.
    let hostIdentity: (uid: UInt32, gid: UInt32)
    /// The scratch directory.
    let directory: URL

    static let policy = """
        airlock_policy: 1
        name: bench
        rules:
          - id: permit.bench
            effect: permit
            when: {tools: [logs.search], workflows: [bench]}
            reason: "bench"
            tags: [maestro:L3]
        """

    /// A sandbox that returns one recorded execution immediately: the tool takes no time.
    struct RecordedSandbox: SandboxRunning {
        let record: ExecutionRecord
        let hostIdentity: (uid: UInt32, gid: UInt32)
        func run(_ spec: SandboxSpec) async throws(SandboxError) -> ExecutionRecord { record }
    }

    /// Sets up in `directory` and runs `logs.search` once in `sandbox`.
    /// - Parameters:
    ///   - directory: scratch directory, traversable by the sandbox user.
    ///   - repository: the repository root (`manifests/tools/logs.search.yaml`, the sample logs).
    ///   - sandbox: the real sandbox.
    /// - Throws: when the registry, trace or sample run fails.
    init(directory: URL, repository: URL, sandbox: Sandbox) async throws {
        self.directory = directory
        registry = ToolRegistry(home: directory)
        _ = try registry.add([
            try ManifestFile.load(repository.appendingPathComponent("manifests/tools/logs.search.yaml"))
        ])
        policyURL = directory.appendingPathComponent("bench-policy.yaml")
        try Data(Self.policy.utf8).write(to: policyURL)
        let workspace = directory.appendingPathComponent("workspace")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        context = ToolRunContext(
            workspace: workspace, datasets: ["logs": repository.appendingPathComponent("tools/sample-data/logs")])
        store = try TraceStore(path: directory.appendingPathComponent("trace.sqlite").path)
        key = try TraceSigningKey.generate()
        sample = try await ToolRunner(registry: registry, sandbox: sandbox).run(
            try registry.resolve("logs.search"), arguments: ["pattern": "ERROR"], context: context)
        hostIdentity = sandbox.hostIdentity
    }

    /// The runner whose sandbox hands back ``sample``'s record at once.
    var instantRunner: ToolRunner {
        ToolRunner(registry: registry, sandbox: RecordedSandbox(record: sample.record, hostIdentity: hostIdentity))
    }

    /// Workflow `bench` over `logs.search` with these budgets (the workflow's digest is its text's).
    /// - Throws: ``AgentError`` when a budget is out of the workflow's range.
    func workflow(maxSteps: Int, maxToolCalls: Int) throws -> Workflow {
        let text = """
            airlock_workflow: 1
            name: bench
            description: bench
            system_prompt: bench
            task: bench
            tools: [logs.search]
            policy: \(policyURL.path)
            budgets: {max_steps: \(maxSteps), max_tool_calls: \(maxToolCalls), wall_seconds: 86400}
            """
        return try Workflow(yaml: text, label: "bench", base: directory, sha256: SHA256.hex(Array(text.utf8)))
    }

    /// A model that proposes `logs.search` `calls` times, each with another pattern (identical
    /// repeated calls would end the run at the workflow's `max_repeats`), then answers.
    /// Records a run of `steps` model steps (a call each but the last) through the instant
    /// runner: the long recorded run the replay and console benchmarks read back.
    func recordRun(steps: Int) async throws -> AgentRunOutcome {
        let workflow = try workflow(maxSteps: steps, maxToolCalls: steps)
        let loop = AgentLoop(
            workflow: workflow, policy: try AgentLoop.loadPolicy(of: workflow), registry: registry,
            runner: instantRunner, model: model(calls: max(steps - 1, 0)), context: context,
            configuration: AgentLoop.Configuration(user: "bench"))
        return try await loop.run(parameters: [:], store: store, key: key)
    }

    func model(calls: Int) -> ScriptedModel {
        let proposals = (0..<calls).map { n in
            ChatResponse(
                message: ChatMessage(
                    role: .assistant, content: nil,
                    toolCalls: [
                        ModelToolCall(id: nil, name: "logs.search", arguments: #"{"pattern": "ERROR \#(n)"}"#)
                    ]))
        }
        let answer = ChatResponse(message: ChatMessage(role: .assistant, content: "done"))
        return ScriptedModel(responses: proposals + [answer])
    }
}
