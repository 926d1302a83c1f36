import Agent
import AirlockCore
import Foundation
import Replay
import Sandbox
import Trace

/// The replay of a long recorded run without re-execution (read, verify, re-drive, compare)
/// against verifying the same run alone (read and verify), in alternating rounds.
struct ReplayBench {
    /// Model steps in the recorded run (at most a workflow's 1000).
    var steps = 1000
    /// Alternating rounds.
    var rounds = 3
    /// The repository root.
    var repository: URL

    func run(scratch: URL) async throws -> [Row] {
        let directory = scratch.appendingPathComponent("replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        defer { try? FileManager.default.removeItem(at: directory) }
        let setting = try await AgentSetting(directory: directory, repository: repository, sandbox: Sandbox())
        let (store, key) = (setting.store, setting.key)
        let outcome = try await setting.recordRun(steps: steps)
        let verifier = TraceVerifier(trustedKeys: [key.publicKey])

        var replays: [Double] = []
        var verifies: [Double] = []
        var events = 0
        for _ in 0..<rounds {
            let verify = try Stats.seconds {
                let result = verifier.verify(try store.bundle(runID: outcome.runID))
                guard result.status == .intact else { throw BenchError("the recorded run is \(result.status)") }
                events = result.events
            }
            let start = Stats.now()
            let recorded = try RecordedRun(runID: outcome.runID, store: store, trustedKeys: [key.publicKey])
            let report = try await Replayer().replay(recorded)
            replays.append(Stats.since(start) / 1e9)
            guard report.identical else { throw BenchError("the replay of \(outcome.runID) diverged") }
            verifies.append(verify)
        }
        return [
            Row(
                id: "replay.run", what: "replay, \(outcome.steps) steps, no re-execution",
                figure: Stats.median(replays),
                unit: "s", anchor: Stats.median(verifies), anchorName: "verify alone of the same run",
                comparison: .ratio, note: "\(events) events; replay identical in every round")
        ]
    }
}
