import AirlockCore
import Foundation
import Model
import Policy
import Sandbox
import Synchronization
import Tools
import Trace

/// The benchmark behind `airlock bench agent`: the runtime's own overhead per tool-call step,
/// excluding the model's time and the tool's own run time.
///
/// A scripted model proposes one `logs.search` call per step; each step's time is measured from
/// the model's answer to the next model request (recording the response, schema validation, the
/// digest measured now, the policy, the sandbox, the result cap, every trace append, the next
/// request). Two figures: with a sandbox that returns a recorded execution at once (the loop's
/// own overhead), and with the real sandbox minus the tool's measured wall time.
public enum AgentBenchmark {
    /// The figures of one benchmark run.
    public struct Result: Sendable {
        /// Loop overhead per step with an instant sandbox, in milliseconds (sorted).
        public var loopMillis: [Double]
        /// Per-step time with the real sandbox minus the tool's wall time, in milliseconds (sorted).
        public var sandboxedMillis: [Double]

        static func percentile(_ sorted: [Double], _ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
        }

        /// The figures as lines, with the target from issue 6.
        public var report: String {
            func f(_ d: Double) -> String { String(format: "%.3f", d) }
            var lines = [
                "agent step overhead (instant sandbox, \(loopMillis.count) steps): p50 \(f(Self.percentile(loopMillis, 0.5))) ms, p99 \(f(Self.percentile(loopMillis, 0.99))) ms (target p50 <= 2 ms)"
            ]
            if !sandboxedMillis.isEmpty {
                lines.append(
                    "agent step overhead (real sandbox minus the tool's wall time, \(sandboxedMillis.count) steps): p50 \(f(Self.percentile(sandboxedMillis, 0.5))) ms, p99 \(f(Self.percentile(sandboxedMillis, 0.99))) ms"
                )
            }
            return lines.joined(separator: "\n")
        }
    }

    /// A sandbox that returns one recorded execution immediately: the tool takes no time.
    struct RecordedSandbox: SandboxRunning {
        let record: ExecutionRecord
        let hostIdentity: (uid: UInt32, gid: UInt32)
        func run(_ spec: SandboxSpec) async throws(SandboxError) -> ExecutionRecord { record }
    }

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

    /// Runs the benchmark in `directory` (a fresh AIRLOCK_HOME-like tree is created there).
    /// - Parameters:
    ///   - directory: scratch directory, traversable by the sandbox user.
    ///   - repository: the repository root (for `manifests/tools/logs.search.yaml` and the sample logs).
    ///   - steps: tool-call steps measured per variant (default 200).
    ///   - sandboxedSteps: steps with the real sandbox (default 50; 0 skips them).
    ///   - sandbox: the real sandbox.
    /// - Throws: ``AgentError`` when setting up or running fails.
    public static func run(
        directory: URL, repository: URL, steps: Int = 200, sandboxedSteps: Int = 50, sandbox: Sandbox = Sandbox()
    ) async throws -> Result {
        let registry = ToolRegistry(home: directory)
        _ = try registry.add([
            try ManifestFile.load(repository.appendingPathComponent("manifests/tools/logs.search.yaml"))
        ])
        let policyURL = directory.appendingPathComponent("bench-policy.yaml")
        try Data(policy.utf8).write(to: policyURL)
        let workspace = directory.appendingPathComponent("workspace")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        let context = ToolRunContext(
            workspace: workspace, datasets: ["logs": repository.appendingPathComponent("tools/sample-data/logs")])
        let store = try TraceStore(path: directory.appendingPathComponent("trace.sqlite").path)
        let key = try TraceSigningKey.generate()
        let tool = try registry.resolve("logs.search")
        let runner = ToolRunner(registry: registry, sandbox: sandbox)
        let sample = try await runner.run(tool, arguments: ["pattern": "ERROR"], context: context)

        func measure(_ count: Int, _ sandbox: any SandboxRunning, subtractToolTime: Bool) async throws -> [Double] {
            guard count > 0 else { return [] }
            let workflow = try Workflow(
                yaml: """
                    airlock_workflow: 1
                    name: bench
                    description: bench
                    system_prompt: bench
                    task: bench
                    tools: [logs.search]
                    policy: \(policyURL.path)
                    budgets: {max_steps: \(count + 2), max_tool_calls: \(count + 1), wall_seconds: 86400}
                    """, label: "bench", base: directory, sha256: "")
            let call = ChatResponse(
                message: ChatMessage(
                    role: .assistant, content: nil,
                    toolCalls: [ModelToolCall(id: nil, name: "logs.search", arguments: #"{"pattern": "ERROR"}"#)]))
            let answer = ChatResponse(message: ChatMessage(role: .assistant, content: "done"))
            let model = ScriptedModel(responses: Array(repeating: call, count: count) + [answer])
            let loop = AgentLoop(
                workflow: workflow, policy: try AgentLoop.loadPolicy(of: workflow), registry: registry,
                runner: ToolRunner(registry: registry, sandbox: sandbox), model: model, context: context,
                configuration: AgentLoop.Configuration(user: "bench"))
            let marks = Mutex<[(AgentProgress, ContinuousClock.Instant)]>([])
            let outcome = try await loop.run(parameters: [:], store: store, key: key) { event in
                let now = ContinuousClock.now
                marks.withLock { $0.append((event, now)) }
            }
            guard outcome.status == .succeeded else {
                throw AgentError(.io, "bench run \(outcome.runID) ended \(outcome.status.rawValue): \(outcome.message)")
            }
            var figures: [Double] = []
            var answeredAt: ContinuousClock.Instant?
            var toolSeconds = 0.0
            for (event, at) in marks.withLock({ $0 }) {
                switch event {
                case .modelAnswered: answeredAt = at
                case .executed(_, _, _, let seconds): toolSeconds = subtractToolTime ? seconds : 0
                case .modelRequested:
                    if let start = answeredAt {
                        let d = at - start
                        let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
                        figures.append((seconds - toolSeconds) * 1000)
                    }
                    toolSeconds = 0
                default: break
                }
            }
            return figures.sorted()
        }
        let loop = try await measure(
            steps, RecordedSandbox(record: sample.record, hostIdentity: sandbox.hostIdentity), subtractToolTime: false)
        let sandboxed = try await measure(sandboxedSteps, sandbox, subtractToolTime: true)
        return Result(loopMillis: loop, sandboxedMillis: sandboxed)
    }
}
