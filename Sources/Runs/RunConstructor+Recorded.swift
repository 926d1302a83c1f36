import Agent
import AirlockCore
import Foundation
import Model
import Policy
import RunEvents
import Tools
import Trace

extension RunConstructor {
    /// Assembles a run from its record alone: what replay re-drives.
    ///
    /// Everything comes from the record: the workflow text, the policy text, the tool versions
    /// (manifests and digests), the model's name and sampling, the principal, the breaker and the
    /// recorder's options from `run.started`; the model's answers and failures, the tool outcomes,
    /// the approvals, the point and reason of a cancellation and the event times from the events
    /// that follow. No home, registry, checkout
    /// or model is needed, and nothing would be executed.
    /// - Parameters:
    ///   - runID: the run's id (the rebuilt run records under the same id).
    ///   - started: its `run.started`.
    ///   - events: its events, typed, in order.
    ///   - times: each event's recorded time, in order, played back as the run's clock.
    ///   - changed: a changed workflow to run under instead of the recorded one (what-if), its
    ///     policy read from its file; or `nil`.
    ///   - decisionObserver: told every call's policy input and decision (default none).
    /// - Throws: ``RunsError`` `invalid-input` when the recorded workflow, policy or a manifest
    ///   cannot be read by this Airlock.
    public static func recorded(
        runID: String, started: RunStarted, events: [RunEvent], times: [Int64], workflow changed: Workflow? = nil,
        decisionObserver: (@Sendable (String, PolicyInput, Decision) -> Void)? = nil
    ) throws(RunsError) -> PreparedRun {
        let (workflow, policy) = try setup(runID: runID, started: started, changed: changed)
        var configuration = AgentLoop.Configuration(
            user: started.principal, agent: started.agent, preApproved: started.preApproved,
            approver: approver(events), maxConsecutiveDenials: started.breaker.maxConsecutiveDenials, runID: runID,
            recorderOptions: TraceRecorderOptions(
                checkpointInterval: started.recorder.checkpointInterval,
                blobThreshold: started.recorder.blobThreshold, maxEventBytes: started.recorder.maxEventBytes,
                clock: .playback(times)),
            toolCalling: started.model.toolCalling)
        configuration.embedded = started.model.embedded
        configuration.airlockVersion = started.airlock
        configuration.decisionObserver = decisionObserver
        configuration.cancellation = RecordedCancellation(events: events)
        let proposals = events.compactMap { event -> ToolProposed? in
            if case .toolProposed(let proposal) = event { return proposal }
            return nil
        }
        let loop = AgentLoop(
            workflow: workflow, policy: policy,
            catalog: try RecordedCatalog(started: started, proposals: proposals, runID: runID),
            steps: RecordedToolSteps(events: events),
            model: RecordedModel(events: events, name: started.model.name, kind: started.model.kind),
            context: ToolRunContext(
                workspace: started.context.workspace.map { URL(fileURLWithPath: $0, isDirectory: true) },
                datasets: started.context.datasets.mapValues { URL(fileURLWithPath: $0, isDirectory: true) }),
            configuration: configuration)
        return PreparedRun(loop: loop, parameters: parameters(started.parameters))
    }

    /// The workflow and policy to run under: the recorded ones, parsed from their recorded text,
    /// or a changed workflow with its own policy file. The recorded sampling is kept where the
    /// workflow sets none (the embedded model's seed comes from its lock, not the file).
    static func setup(runID: String, started: RunStarted, changed: Workflow?) throws(RunsError) -> (
        Workflow, PolicyDocument
    ) {
        do throws(AgentError) {
            let sampling = started.model.sampling
            if var workflow = changed {
                if workflow.model.seed == nil { workflow.model.seed = sampling.seed }
                return (workflow, try PolicyDocument.load(of: workflow))
            }
            let text = started.workflowFile.text
            var workflow = try Workflow(
                yaml: text, label: "run \(runID)'s workflow \(started.workflow)",
                base: URL(fileURLWithPath: "/", isDirectory: true), sha256: SHA256.hex(Array(text.utf8)))
            workflow.path = started.workflowFile.path
            // What a cut reply does comes from the recorded text itself, like the budgets.
            workflow.model.temperature = sampling.temperature
            workflow.model.maxTokens = sampling.maxTokens
            workflow.model.seed = sampling.seed
            return (workflow, try PolicyDocument(text: started.policy.text, path: started.policy.path))
        } catch {
            throw RunsError(
                .invalidInput, "run \(runID): its recorded workflow or policy cannot be loaded",
                cause: error)
        }
    }

    /// The approver stand-in: the recorded answers of a person (on the terminal or through the
    /// store) and the recorded timeouts, in order, with who answered, the scope and the source;
    /// none when the run had no one to ask (its answers came from `no-terminal`, which the loop
    /// gives itself).
    static func approver(_ events: [RunEvent]) -> (any Approver)? {
        var answers: [ApprovalAnswer] = []
        for event in events {
            guard case .approvalAnswered(let answer, let granted) = event else { continue }
            switch answer.source {
            case .noTerminal: return nil
            case .person, .terminal, .store, .mcpElicitation, .timeout:
                answers.append(
                    ApprovalAnswer(
                        granted: granted, approver: answer.approver, reason: answer.reason, identity: answer.identity,
                        scope: answer.scope ?? .once, source: answer.source ?? .person))
            case .preApproved, .workflow, nil: continue
            }
        }
        return RecordedApprover(answers: answers)
    }

    /// The recorded typed parameters back as the text that produced them.
    static func parameters(_ values: [String: JSONValue]) -> [String: String] {
        values.mapValues { value in
            switch value {
            case .string(let s): s
            case .integer(let i): String(i)
            case .number(let d): String(d)
            case .bool(let b): String(b)
            default: value.canonicalString
            }
        }
    }
}
