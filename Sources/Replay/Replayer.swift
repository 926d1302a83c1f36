import Agent
import AirlockCore
import Foundation
import Model
import Policy
import RunEvents
import Synchronization
import Tools
import Trace

/// Re-drives the real ``AgentLoop`` from a verified record alone, into a scratch trace, then
/// compares the two event streams and reports the first divergence.
///
/// Everything comes from the record: the workflow text, the policy text, the tool versions
/// (manifests and digests), the model's name and sampling, the principal, the breaker and the
/// recorder's options from `run.started`; the model's answers and failures, the tool outcomes,
/// the approvals and the event times from the events that follow. No registry, checkout or
/// model is needed, and nothing is executed. What code derives from those (the offer, every
/// decision, every message fed back, the run's end) is derived again, and so compared.
///
/// A what-if policy is judged on the very inputs the loop hands the recorded policy, so its flips
/// are exactly the decisions that would have come out otherwise at that point of the run.
public struct Replayer: Sendable {
    /// Creates a replayer.
    public init() {}

    /// Replays one run.
    /// - Parameters:
    ///   - run: the verified record.
    ///   - workflow: a changed workflow to replay under instead of the recorded one (what-if), or
    ///     `nil` for the recorded one; its policy is read from its file.
    ///   - whatIf: another policy to judge every proposal under, or `nil`.
    /// - Returns: the comparison and, with `whatIf`, the flips.
    /// - Throws: ``ReplayError`` when the record was made by an earlier Airlock or does not
    ///   decode, or the scratch trace cannot be written.
    public func replay(_ run: RecordedRun, workflow changed: Workflow? = nil, whatIf: Policy? = nil)
        async throws(ReplayError) -> ReplayReport
    {
        let started = try run.started()
        let events = try run.typedEvents()
        let setup = try Self.setup(of: run, started: started, changed: changed)
        let observed = Mutex<[(String, PolicyInput, Decision)]>([])
        var configuration = AgentLoop.Configuration(
            user: started.principal, agent: started.agent, preApproved: started.preApproved,
            approver: Self.approver(events), maxConsecutiveDenials: started.breaker.maxConsecutiveDenials,
            runID: run.runID,
            recorderOptions: TraceRecorderOptions(
                checkpointInterval: started.recorder.checkpointInterval,
                blobThreshold: started.recorder.blobThreshold, maxEventBytes: started.recorder.maxEventBytes,
                clock: .playback(run.events.map(\.time))),
            toolCalling: started.model.toolCalling)
        configuration.embedded = started.model.embedded
        configuration.airlockVersion = started.airlock
        configuration.decisionObserver = { id, input, decision in
            observed.withLock { $0.append((id, input, decision)) }
        }
        let proposals = events.compactMap { event -> ToolProposed? in
            if case .toolProposed(let proposal) = event { return proposal }
            return nil
        }
        let loop = AgentLoop(
            workflow: setup.workflow, policy: setup.policy,
            catalog: try RecordedCatalog(started: started, proposals: proposals, runID: run.runID),
            steps: RecordedToolSteps(events: events),
            model: ReplayModel(events: events, name: started.model.name, kind: started.model.kind),
            context: ToolRunContext(
                workspace: started.context.workspace.map { URL(fileURLWithPath: $0, isDirectory: true) },
                datasets: started.context.datasets.mapValues { URL(fileURLWithPath: $0, isDirectory: true) }),
            configuration: configuration)
        let replayed = try await scratchRun(
            loop, parameters: Self.parameters(.object(started.parameters)), runID: run.runID)

        let divergence = Self.firstDivergence(recorded: run.events, replayed: replayed)
        let decisions = observed.withLock { $0 }
        var flips: [WhatIfFlip] = []
        if let whatIf {
            for (id, input, old) in decisions {
                let new = whatIf.evaluate(input)
                guard new.effect != old.effect else { continue }
                flips.append(
                    WhatIfFlip(
                        callID: id, step: input.context.step, tool: input.toolName, fromEffect: old.effect.rawValue,
                        fromRules: old.rules, toEffect: new.effect.rawValue, toRules: new.rules))
            }
        }
        return ReplayReport(
            runID: run.runID, recordedEvents: run.events.count, replayedEvents: replayed.count, divergence: divergence,
            proposals: Set(decisions.map(\.0)).count, flips: flips, whatIfPolicy: whatIf?.name)
    }

    /// The workflow and policy to replay under: the recorded ones, parsed from their recorded
    /// text, or a changed workflow with its own policy file. The recorded sampling is kept where
    /// the workflow sets none (the embedded model's seed comes from its lock, not the file).
    static func setup(of run: RecordedRun, started: RunStarted, changed: Workflow?) throws(ReplayError) -> (
        workflow: Workflow, policy: PolicyDocument
    ) {
        do throws(AgentError) {
            let sampling = started.model.sampling
            if var workflow = changed {
                if workflow.model.seed == nil { workflow.model.seed = sampling.seed }
                return (workflow, try PolicyDocument.load(of: workflow))
            }
            let text = started.workflowFile.text
            var workflow = try Workflow(
                yaml: text, label: "run \(run.runID)'s workflow \(started.workflow)",
                base: URL(fileURLWithPath: "/", isDirectory: true), sha256: SHA256.hex(Array(text.utf8)))
            workflow.path = started.workflowFile.path
            workflow.model = Workflow.ModelSettings(
                temperature: sampling.temperature, maxTokens: sampling.maxTokens, seed: sampling.seed)
            return (workflow, try PolicyDocument(text: started.policy.text, path: started.policy.path))
        } catch {
            throw ReplayError(
                .malformedRecord, "run \(run.runID): its recorded workflow or policy cannot be loaded",
                cause: error.description)
        }
    }

    /// The approver stand-in: the recorded answers of a person, in order; none when the run had
    /// no one to ask (its answers came from `no-terminal`, which the loop gives itself).
    static func approver(_ events: [RunEvent]) -> (any Approver)? {
        var answers: [ApprovalAnswer] = []
        for event in events {
            guard case .approvalAnswered(let answer, let granted) = event else { continue }
            switch answer.source {
            case .noTerminal: return nil
            case .person:
                answers.append(ApprovalAnswer(granted: granted, approver: answer.approver, reason: answer.reason))
            case .preApproved, .workflow, nil: continue
            }
        }
        return ReplayApprover(answers: answers)
    }

    /// Runs the loop into a throwaway trace (its own directory and key, removed afterwards) and
    /// returns the events it wrote.
    private func scratchRun(_ loop: AgentLoop, parameters: [String: String], runID: String) async throws(ReplayError)
        -> [(String, [UInt8])]
    {
        // The scratch trace is thrown away: on tmpfs and without fsync.
        let shm = URL(fileURLWithPath: "/dev/shm")
        let base = FileManager.default.isWritableFile(atPath: shm.path) ? shm : FileManager.default.temporaryDirectory
        let directory = base.appendingPathComponent("airlock-replay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let store = try TraceStore(
                path: directory.appendingPathComponent("replay.sqlite").path, configuration: .init(durable: false))
            let key = try TraceSigningKey.generate()
            _ = try await loop.run(parameters: parameters, store: store, key: key)
            return try store.events(runID: runID).map { ($0.type, RecordedRun.payloadBytes(of: $0.body)) }
        } catch let error as AgentError {
            throw ReplayError(
                .replay, "run \(runID): the orchestrator could not be re-driven", cause: error.description)
        } catch {
            throw ReplayError(.replay, "run \(runID): the scratch trace in \(directory.path) failed", cause: "\(error)")
        }
    }

    /// The recorded typed parameters back as the `--param` strings that produced them.
    static func parameters(_ value: JSONValue?) -> [String: String] {
        var out: [String: String] = [:]
        for (name, value) in value?.objectValue ?? [:] {
            switch value {
            case .string(let s): out[name] = s
            case .integer(let i): out[name] = String(i)
            case .number(let d): out[name] = String(d)
            case .bool(let b): out[name] = String(b)
            default: out[name] = value.canonicalString
            }
        }
        return out
    }

    /// The first event where the streams differ (sequence numbers start at 1 in every run), with
    /// the first differing field. Byte-for-byte: the replay plays the recorded times back, so
    /// nothing a clock put in a payload differs.
    static func firstDivergence(recorded: [RecordedRun.Event], replayed: [(String, [UInt8])]) -> ReplayDivergence? {
        var step: Int64 = 0
        for index in 0..<max(recorded.count, replayed.count) {
            let a = index < recorded.count ? recorded[index] : nil
            let b = index < replayed.count ? replayed[index] : nil
            if let value = a?.payload["step"]?.integerValue { step = value }
            if let a, let b, a.type == b.0, a.payloadBytes == b.1 { continue }
            let left = a?.payload ?? .null
            let right = b.map { (try? JSONParser().parse($0.1)) ?? .string("unparsable") } ?? .null
            if let a, let b, a.type == b.0, left == right { continue }
            let (pointer, recordedValue, replayedValue) =
                a?.type == b?.0 ? JSONDifference.first(left, right) : ("", left, right)
            return ReplayDivergence(
                seq: Int64(index + 1), step: step, recordedType: a?.type, replayedType: b?.0, pointer: pointer,
                recorded: recordedValue, replayed: replayedValue)
        }
        return nil
    }
}
