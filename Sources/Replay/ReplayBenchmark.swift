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

    /// Records and replays a run of `steps` model steps (each a tool call, the last the answer).
    /// - Parameters:
    ///   - directory: a scratch directory (registry, trace, workspace) the caller removes.
    ///   - repository: the repository root (the shipped logs.search manifest and sample logs).
    ///   - steps: the run's model steps, at most a workflow's 1000 (default 1000).
    /// - Returns: the figures.
    /// - Throws: when the run cannot be set up or recorded.
    public static func run(directory: URL, repository: URL, steps: Int = 1000) async throws -> Result {
        let setting = try await AgentBenchmarkSetting(directory: directory, repository: repository, sandbox: Sandbox())
        let workflow = try setting.workflow(maxSteps: steps, maxToolCalls: steps)
        let loop = AgentLoop(
            workflow: workflow, policy: try AgentLoop.loadPolicy(of: workflow), registry: setting.registry,
            runner: setting.instantRunner, model: setting.model(calls: max(steps - 1, 0)), context: setting.context,
            configuration: AgentLoop.Configuration(user: "bench"))
        let (store, key) = (setting.store, setting.key)
        let outcome = try await loop.run(parameters: [:], store: store, key: key)

        let clock = ContinuousClock()
        let start = clock.now
        let recorded = try RecordedRun(runID: outcome.runID, store: store, trustedKeys: [key.publicKey])
        let verified = clock.now
        let report = try await Replayer().replay(recorded)
        let done = clock.now
        return Result(
            steps: outcome.steps, events: recorded.events.count, verifySeconds: seconds(verified - start),
            replaySeconds: seconds(done - verified), identical: report.identical)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
