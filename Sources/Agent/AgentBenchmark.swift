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
        let setting = try await AgentBenchmarkSetting(directory: directory, repository: repository, sandbox: sandbox)

        func measure(_ count: Int, _ sandbox: any SandboxRunning, subtractToolTime: Bool) async throws -> [Double] {
            guard count > 0 else { return [] }
            let workflow = try setting.workflow(maxSteps: count + 2, maxToolCalls: count + 1)
            let loop = AgentLoop(
                workflow: workflow, policy: try AgentLoop.loadPolicy(of: workflow), registry: setting.registry,
                runner: ToolRunner(registry: setting.registry, sandbox: sandbox), model: setting.model(calls: count),
                context: setting.context, configuration: AgentLoop.Configuration(user: "bench"))
            let marks = Mutex<[(AgentProgress, ContinuousClock.Instant)]>([])
            let outcome = try await loop.run(parameters: [:], store: setting.store, key: setting.key) { event in
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
                case .executed(_, _, _, let seconds, _): toolSeconds = subtractToolTime ? seconds : 0
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
        let loop = try await measure(steps, setting.instantRunner.sandbox, subtractToolTime: false)
        let sandboxed = try await measure(sandboxedSteps, sandbox, subtractToolTime: true)
        return Result(loopMillis: loop, sandboxedMillis: sandboxed)
    }
}
