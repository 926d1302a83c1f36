import Agent
import AirlockCore
import Foundation
import Model
import Policy
import RunEvents
import Runs
import Synchronization
import Tools
import Trace

/// Re-drives the real ``AgentLoop`` from a verified record alone, into a scratch trace, then
/// compares the two event streams and reports the first divergence.
///
/// The run is rebuilt by ``RunConstructor/recorded(runID:started:events:times:workflow:decisionObserver:)``
/// from the record alone: no registry, checkout or model is needed, and nothing is executed.
/// What code derives from the record (the offer, every decision, every message fed back, the
/// run's end) is derived again, and so compared.
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
        let observed = Mutex<[(String, PolicyInput, Decision)]>([])
        let prepared: PreparedRun
        do throws(RunsError) {
            prepared = try RunConstructor.recorded(
                runID: run.runID, started: started, events: events, times: run.events.map(\.time),
                workflow: changed,
                decisionObserver: { id, input, decision in observed.withLock { $0.append((id, input, decision)) } })
        } catch {
            throw ReplayError(.malformedRecord, error.message, cause: error.cause)
        }
        let replayed = try await scratchRun(prepared, runID: run.runID)

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
    private func scratchRun(_ run: PreparedRun, runID: String) async throws(ReplayError)
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
            _ = try await run.run(store: store, key: key)
            return try store.events(runID: runID).map { ($0.type, RecordedRun.payloadBytes(of: $0.body)) }
        } catch let error as AgentError {
            throw ReplayError(
                .replay, "run \(runID): the orchestrator could not be re-driven", cause: error)
        } catch {
            throw ReplayError(.replay, "run \(runID): the scratch trace in \(directory.path) failed", cause: error)
        }
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
