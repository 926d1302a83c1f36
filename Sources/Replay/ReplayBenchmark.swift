import Agent
import AirlockCore
import Foundation
import Model
import Policy
import Sandbox
import Tools
import Trace

/// `airlock bench replay`: records a long run (one real sandboxed call gives the execution record
/// every step reuses), then times its replay without re-execution: read, verify, re-drive, compare.
public enum ReplayBenchmark {
    /// What was measured.
    public struct Result: Sendable {
        /// Model steps in the replayed run.
        public var steps: Int
        /// Events in the run.
        public var events: Int
        /// Seconds to read and verify the run.
        public var verifySeconds: Double
        /// Seconds to re-drive and compare it.
        public var replaySeconds: Double
        /// Whether the replay came out identical (it must).
        public var identical: Bool

        /// The figures, one line.
        public var report: String {
            let total = verifySeconds + replaySeconds
            return String(
                format:
                    "replay of a %d-step run (%d events, no re-execution): %.3f s (verify %.3f s + re-drive %.3f s), %@ (target <= 1 s)",
                steps, events, total, verifySeconds, replaySeconds, identical ? "identical" : "DIVERGED")
        }
    }

    struct ConstantSandbox: SandboxRunning {
        let record: ExecutionRecord
        let hostIdentity: (uid: UInt32, gid: UInt32)
        func run(_ spec: SandboxSpec) async throws(SandboxError) -> ExecutionRecord { record }
    }

    /// Records and replays a run of `steps` model steps (each a tool call, the last the answer).
    /// - Parameters:
    ///   - directory: a scratch directory (registry, trace, workspace) the caller removes.
    ///   - repository: the repository root (the shipped logs.search manifest and sample logs).
    ///   - steps: the run's model steps, at most a workflow's 1000 (default 1000).
    /// - Returns: the figures.
    /// - Throws: when the run cannot be set up or recorded.
    public static func run(directory: URL, repository: URL, steps: Int = 1000) async throws -> Result {
        let registry = ToolRegistry(home: directory)
        _ = try registry.add([
            try ManifestFile.load(repository.appendingPathComponent("manifests/tools/logs.search.yaml"))
        ])
        let policyURL = directory.appendingPathComponent("bench-policy.yaml")
        try Data(
            """
            airlock_policy: 1
            name: bench
            rules:
              - id: permit.bench
                effect: permit
                when: {tools: [logs.search], workflows: [bench]}
                reason: "bench"
                tags: [maestro:L3]
            """.utf8
        ).write(to: policyURL)
        let workspace = directory.appendingPathComponent("workspace")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        let context = ToolRunContext(
            workspace: workspace, datasets: ["logs": repository.appendingPathComponent("tools/sample-data/logs")])
        let store = try TraceStore(path: directory.appendingPathComponent("trace.sqlite").path)
        let key = try TraceSigningKey.generate()
        let sandbox = Sandbox()
        let sample = try await ToolRunner(registry: registry, sandbox: sandbox).run(
            try registry.resolve("logs.search"), arguments: ["pattern": "ERROR"], context: context)
        let workflowText = """
            airlock_workflow: 1
            name: bench
            description: bench
            system_prompt: bench
            task: bench
            tools: [logs.search]
            policy: \(policyURL.path)
            budgets: {max_steps: \(steps), max_tool_calls: \(steps), wall_seconds: 86400}
            """
        let workflow = try Workflow(
            yaml: workflowText, label: "bench", base: directory, sha256: SHA256.hex(Array(workflowText.utf8)))
        let call = ChatResponse(
            message: ChatMessage(
                role: .assistant, content: nil,
                toolCalls: [ModelToolCall(id: nil, name: "logs.search", arguments: #"{"pattern": "ERROR"}"#)]))
        let answer = ChatResponse(message: ChatMessage(role: .assistant, content: "done"))
        let loop = AgentLoop(
            workflow: workflow, policy: try AgentLoop.loadPolicy(of: workflow), registry: registry,
            runner: ToolRunner(
                registry: registry, sandbox: ConstantSandbox(record: sample.record, hostIdentity: sandbox.hostIdentity)),
            model: ScriptedModel(responses: Array(repeating: call, count: max(steps - 1, 0)) + [answer]),
            context: context,
            configuration: AgentLoop.Configuration(user: "bench"))
        let outcome = try await loop.run(parameters: [:], store: store, key: key)

        let clock = ContinuousClock()
        let start = clock.now
        let recorded = try RecordedRun(runID: outcome.runID, store: store, trustedKeys: [key.publicKey])
        let verified = clock.now
        let report = try await Replayer(registry: registry, context: context).replay(recorded, workflow: workflow)
        let done = clock.now
        return Result(
            steps: outcome.steps, events: recorded.events.count, verifySeconds: seconds(verified - start),
            replaySeconds: seconds(done - verified), identical: report.identical)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
