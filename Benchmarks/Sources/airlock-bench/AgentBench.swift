import Agent
import AirlockCore
import Foundation
import Model
import Sandbox
import Synchronization
import Tools

/// The agent's own time per tool-call step against the scripted model's own time in the same
/// steps: a scripted model proposes one `logs.search` call per step, a sandbox hands back a
/// recorded execution at once, and each step is timed from one model request to the next. What
/// the runtime adds is the step minus the model's own time (recording the response, schema
/// validation, the digest measured now, the policy, the result cap, every durable trace append,
/// the next request). A second figure with the real sandbox, minus the tool's own wall time, is
/// shown for information.
struct AgentBench {
    /// Steps with the instant sandbox.
    var steps = 300
    /// Steps with the real sandbox (0 skips them).
    var sandboxedSteps = 50
    /// The repository root (the shipped logs.search manifest and the sample logs).
    var repository: URL

    /// A model that times its own answers.
    final class TimedModel: ChatModel {
        let inner: ScriptedModel
        let seconds = Mutex<[Double]>([])
        init(_ inner: ScriptedModel) { self.inner = inner }
        var name: String { inner.name }
        var kind: String { inner.kind }
        func complete(_ request: ChatRequest) async throws(ModelError) -> ChatResponse {
            let start = Stats.now()
            let response = try await inner.complete(request)
            let elapsed = Stats.since(start) / 1e9
            seconds.withLock { $0.append(elapsed) }
            return response
        }
    }

    /// Per step: whole-step milliseconds, the model's own milliseconds, the tool's own seconds.
    static func measure(
        _ setting: AgentSetting, count: Int, sandbox: any SandboxRunning
    ) async throws -> [(step: Double, model: Double, tool: Double)] {
        let workflow = try setting.workflow(maxSteps: count + 2, maxToolCalls: count + 1)
        let model = TimedModel(setting.model(calls: count))
        let loop = AgentLoop(
            workflow: workflow, policy: try AgentLoop.loadPolicy(of: workflow), registry: setting.registry,
            runner: ToolRunner(registry: setting.registry, sandbox: sandbox), model: model,
            context: setting.context, configuration: AgentLoop.Configuration(user: "bench"))
        let marks = Mutex<[(AgentProgress, UInt64)]>([])
        let outcome = try await loop.run(parameters: [:], store: setting.store, key: setting.key) { event in
            let now = Stats.now()
            marks.withLock { $0.append((event, now)) }
        }
        guard outcome.status == .succeeded else {
            throw BenchError("bench run \(outcome.runID) ended \(outcome.status.rawValue): \(outcome.message)")
        }
        let modelSeconds = model.seconds.withLock { $0 }
        var steps: [(Double, Double, Double)] = []
        var requestedAt: UInt64?
        var toolSeconds = 0.0
        var index = 0
        for (event, at) in marks.withLock({ $0 }) {
            switch event {
            case .executed(_, _, _, let seconds, _): toolSeconds = seconds
            case .modelRequested:
                if let start = requestedAt, index < modelSeconds.count {
                    steps.append((Double(at - start) / 1e6, modelSeconds[index] * 1000, toolSeconds))
                    index += 1
                }
                requestedAt = at
                toolSeconds = 0
            default: break
            }
        }
        return steps
    }

    func run(scratch: URL) async throws -> [Row] {
        let directory = scratch.appendingPathComponent("agent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        defer { try? FileManager.default.removeItem(at: directory) }
        let sandbox = Sandbox()
        let setting = try await AgentSetting(directory: directory, repository: repository, sandbox: sandbox)
        _ = try await Self.measure(setting, count: 20, sandbox: setting.instantRunner.sandbox)  // warm-up
        let instant = try await Self.measure(setting, count: steps, sandbox: setting.instantRunner.sandbox)
        let added = instant.map { $0.step - $0.model }
        var rows = [
            Row(
                id: "agent.step", what: "agent step overhead, instant sandbox (p50)",
                figure: Stats.median(instant.map(\.step)), unit: "ms", anchor: Stats.median(instant.map(\.model)),
                anchorName: "the scripted model's own time in the same steps", comparison: .difference,
                note:
                    "\(instant.count) steps; added p50 \(Format.number(Stats.median(added))) ms, p99 \(Format.number(Stats.percentile(added, 0.99))) ms"
            )
        ]
        if sandboxedSteps > 0 {
            let real = try await Self.measure(setting, count: sandboxedSteps, sandbox: sandbox)
            let overhead = real.map { $0.step - $0.model - $0.tool * 1000 }
            rows.append(
                Row(
                    id: "agent.step_sandboxed", what: "agent step overhead, real sandbox minus the tool's time (p50)",
                    figure: Stats.median(overhead), unit: "ms", anchor: nil, anchorName: "—", comparison: .none,
                    note: "\(real.count) steps"))
        }
        return rows
    }
}
