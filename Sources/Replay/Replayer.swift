import Agent
import AirlockCore
import Foundation
import Model
import Policy
import Secrets
import Synchronization
import Tools
import Trace

/// Re-drives the real ``AgentLoop`` from a verified record, with the recorded model responses,
/// execution records and approval answers standing in for the model, the sandbox and the person,
/// into a scratch trace; then compares the two event streams and reports the first divergence.
/// Nothing is executed: the stand-in sandbox only hands back recorded records.
///
/// A what-if policy is judged on the very inputs the loop hands the recorded policy, so its flips
/// are exactly the decisions that would have come out otherwise at that point of the run.
public struct Replayer: Sendable {
    /// The registry the run's tools resolve in (their manifests and pinned executables).
    public let registry: ToolRegistry
    /// The workspace and datasets mounts resolve against (no tool runs in them).
    public let context: ToolRunContext
    /// The loop's denial circuit breaker, as the run had it (default 3).
    public let maxConsecutiveDenials: Int
    /// The secret store, so that a call whose declared secret was missing is missing again
    /// (nothing is delivered: nothing runs); `nil` skips that check.
    public let secrets: SecretBroker?

    /// Creates a replayer.
    /// - Parameters:
    ///   - registry: the tool registry.
    ///   - context: the workspace and datasets.
    ///   - maxConsecutiveDenials: the loop's circuit breaker (default 3, `airlock run`'s).
    ///   - secrets: the secret store, to check declared secrets exist (default none: not checked).
    public init(
        registry: ToolRegistry, context: ToolRunContext, maxConsecutiveDenials: Int = 3, secrets: SecretBroker? = nil
    ) {
        self.registry = registry
        self.context = context
        self.maxConsecutiveDenials = maxConsecutiveDenials
        self.secrets = secrets
    }

    /// Replays one run.
    /// - Parameters:
    ///   - run: the verified record.
    ///   - workflow: the run's workflow file, loaded (its digest must match the record's).
    ///   - whatIf: another policy to judge every proposal under, or `nil`.
    /// - Returns: the comparison and, with `whatIf`, the flips.
    /// - Throws: ``ReplayError`` when the record is incomplete, the workflow is another one, or
    ///   the scratch trace cannot be written.
    public func replay(_ run: RecordedRun, workflow: Workflow, whatIf: Policy? = nil) async throws(ReplayError)
        -> ReplayReport
    {
        guard let first = run.events.first, first.type == TraceEventType.runStarted.rawValue else {
            throw ReplayError(.malformedRecord, "run \(run.runID): the record does not start with run.started")
        }
        let started = try run.resolve(first.payload, seq: first.seq)
        let recordedDigest = started["workflow_sha256"]?.stringValue ?? ""
        guard recordedDigest == workflow.sha256 else {
            throw ReplayError(
                .workflowMismatch,
                "run \(run.runID) recorded workflow \(started["workflow"]?.stringValue ?? "?") sha256 \(recordedDigest); workflow \(workflow.name) is sha256 \(workflow.sha256) — pass the file the run used"
            )
        }
        let policy: Policy
        do {
            policy = try AgentLoop.loadPolicy(of: workflow)
        } catch {
            throw ReplayError(.replay, "run \(run.runID): the workflow's policy cannot be loaded", cause: error.message)
        }
        let model = ReplayModel(
            payloads: try run.payloads(.modelResponse), name: started["model"]?["name"]?.stringValue ?? "",
            kind: started["model"]?["kind"]?.stringValue ?? "")
        let sandbox = try ReplaySandbox(payloads: try run.payloads(.toolExecuted))
        let (answers, preApproved) = try Self.approvals(in: run)
        let observed = Mutex<[(String, PolicyInput, Decision)]>([])
        var configuration = AgentLoop.Configuration(
            user: started["principal"]?.stringValue ?? "", agent: started["agent"]?.stringValue ?? "airlock-agent",
            preApproved: preApproved, approver: ReplayApprover(answers: answers),
            maxConsecutiveDenials: maxConsecutiveDenials, runID: run.runID)
        // The offer is part of run.started: replay it in the mode the run used.
        configuration.toolCalling =
            started["model"]?["tool_calling"]?.stringValue.flatMap(ToolCallingMode.init(rawValue:)) ?? .native
        configuration.decisionObserver = { id, input, decision in
            observed.withLock { $0.append((id, input, decision)) }
        }
        let loop = AgentLoop(
            workflow: workflow, policy: policy, registry: registry,
            runner: ToolRunner(registry: registry, sandbox: sandbox, secrets: secrets),
            model: model, context: context, configuration: configuration)
        let replayed = try await scratchRun(loop, parameters: Self.parameters(started["parameters"]), runID: run.runID)

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

    /// The recorded approval answers in order, and the tools pre-approved for the run.
    static func approvals(in run: RecordedRun) throws(ReplayError) -> ([ApprovalAnswer], [String]) {
        var tools: [String: String] = [:]
        var answers: [ApprovalAnswer] = []
        var preApproved: Set<String> = []
        for event in run.events {
            let payload = event.payload
            let id = payload["call_id"]?.stringValue ?? ""
            switch event.type {
            case TraceEventType.toolProposed.rawValue:
                tools[id] = payload["tool"]?.stringValue
            case TraceEventType.approvalGranted.rawValue, TraceEventType.approvalDenied.rawValue:
                let approver = payload["approver"]?.stringValue ?? ""
                if approver.hasSuffix("(pre-approved)"), let tool = tools[id] {
                    preApproved.insert(tool)
                } else {
                    answers.append(
                        ApprovalAnswer(
                            granted: event.type == TraceEventType.approvalGranted.rawValue, approver: approver,
                            reason: payload["reason"]?.stringValue ?? ""))
                }
            default:
                break
            }
        }
        return (answers, preApproved.sorted())
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

    /// `payload` without what a wall clock put there: the time after `@` in a decision's
    /// approvals (`ana (pre-approved)@1795469088.79`), which no replay can reproduce.
    static func normalised(_ type: String, _ payload: JSONValue) -> JSONValue {
        guard type == TraceEventType.policyDecision.rawValue, case .object(var fields) = payload,
            let approvals = fields["approvals"]?.arrayValue
        else { return payload }
        fields["approvals"] = .array(
            approvals.map { approval in
                guard let text = approval.stringValue, let at = text.lastIndex(of: "@") else { return approval }
                return .string(String(text[..<at]))
            })
        return .object(fields)
    }

    /// The first event where the streams differ (sequence numbers start at 1 in every run), with the first differing field.
    static func firstDivergence(recorded: [RecordedRun.Event], replayed: [(String, [UInt8])]) -> ReplayDivergence? {
        var step: Int64 = 0
        for index in 0..<max(recorded.count, replayed.count) {
            let a = index < recorded.count ? recorded[index] : nil
            let b = index < replayed.count ? replayed[index] : nil
            if let value = a?.payload["step"]?.integerValue { step = value }
            // Canonical bytes first; only events that differ there are parsed and normalised.
            if let a, let b, a.type == b.0, a.payloadBytes == b.1 { continue }
            let left = a.map { normalised($0.type, $0.payload) } ?? .null
            let right = b.map { normalised($0.0, (try? JSONParser().parse($0.1)) ?? .string("unparsable")) } ?? .null
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
