import Agent
import AirlockCore
import Approvals
import Foundation
import Runs
import Trace
import TracePostgres

/// `airlock worker`: claims queued runs, runs each through ``Runs/RunConstructor`` (as every front
/// door does), records it into the shared trace with every write fenced by its attempt, keeps its
/// lease by heartbeat, and rescues runs whose worker stopped heartbeating (docs/scale.md).
///
/// A rescued run that never recorded `run.started` is queued again: nothing of it ran. A rescued
/// run that did start is not run again: the rescuer verifies its trace, records an `error`
/// (stage `queue`, code `lease-expired`) and `run.finished` with status `abandoned`, signed, and
/// marks it `abandoned` with the reason. Its tool results stay as recorded; none is executed twice.
public final class RunWorker: Sendable {
    /// How a worker behaves.
    public struct Settings: Sendable {
        /// The worker's name, unique on the site (default `HOST:PID`).
        public var name: String
        /// How long a claim holds without a heartbeat, in milliseconds (default 30 000); a
        /// heartbeat is sent every third of it.
        public var leaseMilliseconds: Int64
        /// How long to wait when nothing is queued, in milliseconds (default 500).
        public var pollMilliseconds: Int64
        /// Stop after this many runs (default: never).
        public var maxRuns: Int?
        /// Stop once the queue is empty and nothing is left to rescue (default `false`).
        public var exitWhenIdle: Bool

        /// Creates settings.
        public init(
            name: String = Self.defaultName, leaseMilliseconds: Int64 = 30_000, pollMilliseconds: Int64 = 500,
            maxRuns: Int? = nil, exitWhenIdle: Bool = false
        ) {
            self.name = name
            self.leaseMilliseconds = leaseMilliseconds
            self.pollMilliseconds = pollMilliseconds
            self.maxRuns = maxRuns
            self.exitWhenIdle = exitWhenIdle
        }

        /// `HOST:PID`.
        public static var defaultName: String {
            "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
        }
    }

    /// What one worker did.
    public struct Tally: Sendable, Hashable {
        /// Runs it ran to their end (any status).
        public var ran = 0
        /// Runs it found gone and queued again (they had not started).
        public var requeued = 0
        /// Runs it found gone and marked abandoned (they had started).
        public var abandoned = 0
        /// Runs it lost the lease of while running them.
        public var lost = 0
    }

    let url: PostgresURL
    let constructor: RunConstructor
    let key: TraceSigningKey
    let trustedKeys: [TracePublicKey]
    let settings: Settings
    let log: @Sendable (String) -> Void
    /// Claims, ends and rescues.
    let queue: RunQueue
    /// Heartbeats, on a connection of their own so that a long trace write never delays one.
    let beats: RunQueue
    /// The trace writes.
    let traceSession: PostgresSession
    /// The approval requests its runs wait on: the same database, so that an approver on any
    /// host answers them (`airlock approvals approve ID --database postgres://APPROVER@…`).
    let approvals: ApprovalStore

    /// A worker for the site database at `url`.
    /// - Parameters:
    ///   - url: the site database (trace and queue).
    ///   - constructor: how runs are assembled (the worker host's home).
    ///   - key: the key this worker signs with.
    ///   - trustedKeys: the keys a rescued run's checkpoints must verify against.
    ///   - settings: name, lease, polling, limits.
    ///   - log: one line per thing done.
    /// - Throws: ``QueueError`` `storage` when the database cannot be reached.
    public init(
        url: PostgresURL, constructor: RunConstructor, key: TraceSigningKey, trustedKeys: [TracePublicKey],
        settings: Settings = Settings(), log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(QueueError) {
        self.url = url
        self.constructor = constructor
        self.key = key
        self.trustedKeys = trustedKeys.contains(key.publicKey) ? trustedKeys : trustedKeys + [key.publicKey]
        self.settings = settings
        self.log = log
        approvals = ApprovalStore(backend: PostgresApprovalBackend(url: url))
        do throws(PostgresFailure) {
            queue = RunQueue(session: try PostgresSession(url: url))
            beats = RunQueue(session: try PostgresSession(url: url))
            traceSession = try PostgresSession(url: url)
        } catch {
            throw QueueError(error)
        }
    }

    /// The trace store for one claim: every write fenced by it.
    func store(_ claim: RunClaim) throws(QueueError) -> TraceStore {
        do {
            return TraceStore(backend: try PostgresTraceBackend(session: traceSession, fence: claim.fence))
        } catch {
            throw QueueError(.storage, error.description)
        }
    }

    /// Works until the task is cancelled, `maxRuns` is reached, or (with `exitWhenIdle`) nothing
    /// is left.
    /// - Throws: ``QueueError`` `storage` when the database is lost.
    public func run() async throws(QueueError) -> Tally {
        var tally = Tally()
        while !Task.isCancelled {
            let rescued = try rescue()
            tally.requeued += rescued.requeued
            tally.abandoned += rescued.abandoned
            if let limit = settings.maxRuns, tally.ran + tally.lost >= limit { break }
            guard let claim = try queue.claim(worker: settings.name, leaseMilliseconds: settings.leaseMilliseconds)
            else {
                if settings.exitWhenIdle, try queue.list(state: "queued").isEmpty,
                    try queue.list(state: "running").isEmpty
                {
                    break
                }
                try? await Task.sleep(for: .milliseconds(settings.pollMilliseconds))
                continue
            }
            if await execute(claim) { tally.ran += 1 } else { tally.lost += 1 }
        }
        return tally
    }

    /// Runs one claimed run. Returns `false` when the lease was lost on the way.
    func execute(_ claim: RunClaim) async -> Bool {
        let run = claim.run
        log("claimed \(run.runID) (attempt \(run.attempt))")
        let fence = claim.fence
        guard let data = FileManager.default.contents(atPath: run.workflow),
            SHA256.hex(Array(data)) == run.workflowSHA256
        else {
            let reason = "the workflow \(run.workflow) is missing on \(settings.name) or changed since it was submitted"
            log("abandoned \(run.runID): \(reason)")
            return (try? queue.end(fence, state: "abandoned", status: "abandoned", reason: reason)) ?? false
        }
        let cancellation = TaskCancellation()
        let request = RunRequest(
            workflow: URL(fileURLWithPath: run.workflow), parameters: run.parameters,
            model: run.model.map(RunRequest.ModelChoice.endpoint) ?? .embedded, runID: run.runID,
            principal: run.principal, approver: StoreApprover(store: approvals), cancellation: cancellation)
        let prepared: PreparedRun
        let store: TraceStore
        do {
            store = try self.store(claim)
            prepared = try constructor.live(request)
        } catch {
            // Assembly fails before the first event: nothing ran; the reason is the queue's.
            let reason = "could not be assembled on \(settings.name): \(error)"
            log("abandoned \(run.runID): \(reason)")
            return (try? queue.end(fence, state: "abandoned", status: "abandoned", reason: reason)) ?? false
        }
        let key = self.key
        let task = Task { () -> Result<AgentRunOutcome, AgentError> in
            do throws(AgentError) {
                return .success(try await prepared.run(store: store, key: key))
            } catch {
                return .failure(error)
            }
        }
        let lost = Heartbeats(
            queue: beats, fence: fence, leaseMilliseconds: settings.leaseMilliseconds,
            onCancel: { reason in
                cancellation.request(reason)
                task.cancel()
            })
        let result = await task.value
        let leaseLost = await lost.stop()
        switch result {
        case .success(let outcome):
            let ended =
                (try? queue.end(fence, state: "finished", status: outcome.status.rawValue, reason: nil)) ?? false
            log("\(ended ? "finished" : "lost the lease of") \(run.runID): \(outcome.status.rawValue)")
            return ended && !leaseLost
        case .failure(let error):
            log("run \(run.runID) failed on \(settings.name): \(error)")
            if leaseLost { return false }
            // The trace refused a write (fenced, or the database failed): the rescuer settles it
            // from what the trace holds once the lease runs out; a worker does not guess.
            return false
        }
    }

    /// Takes over runs whose lease expired and settles each: queued again when it never started,
    /// `finished` when its trace shows it finished, else `abandoned` with its trace ended.
    /// - Throws: ``QueueError`` `storage`.
    public func rescue() throws(QueueError) -> (requeued: Int, abandoned: Int) {
        var requeued = 0
        var abandoned = 0
        for (claim, from) in try queue.takeExpired(
            rescuer: settings.name, leaseMilliseconds: settings.leaseMilliseconds)
        {
            let fence = claim.fence
            let store = try self.store(claim)
            let summary: TraceRunSummary?
            do {
                summary = try store.backend.runRow(fence.runID)
            } catch {
                throw QueueError(.storage, error.description)
            }
            guard let summary else {
                if try queue.requeue(fence, reason: "\(from): lease expired before the run started") {
                    requeued += 1
                    log("requeued \(fence.runID): \(from) stopped before it started")
                }
                continue
            }
            if let status = summary.finishedStatus {
                try queue.end(
                    fence, state: "finished", status: status, reason: "\(from): finished, then its lease expired")
                continue
            }
            let reason =
                "\(from): the lease expired mid-run (the worker stopped heartbeating); not run again, so that no tool runs twice"
            do {
                let recorder = try RunRecorder.resuming(
                    store: store, key: key, runID: fence.runID, trustedKeys: trustedKeys)
                try recorder.append(
                    .error, ["stage": "queue", "code": "lease-expired", "message": .string(reason)])
                try recorder.finish(["status": "abandoned", "message": .string(reason)])
            } catch {
                // A trace that does not verify, or a write refused: left to the auditors, said so.
                let why = "\(reason); the trace could not be ended: \(error)"
                try queue.end(fence, state: "abandoned", status: "abandoned", reason: why)
                abandoned += 1
                log("abandoned \(fence.runID): \(why)")
                continue
            }
            if try queue.end(fence, state: "abandoned", status: "abandoned", reason: reason) {
                abandoned += 1
                log("abandoned \(fence.runID): \(reason)")
            }
        }
        return (requeued, abandoned)
    }
}

/// A claim's heartbeat, every third of the lease, until stopped; it cancels the run when the
/// lease is lost or `runs cancel` asked.
final class Heartbeats: Sendable {
    private let task: Task<Bool, Never>

    init(
        queue: RunQueue, fence: PostgresFence, leaseMilliseconds: Int64,
        onCancel: @escaping @Sendable (String) -> Void
    ) {
        task = Task {
            var cancelAsked = false
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(max(50, leaseMilliseconds / 3)))
                if Task.isCancelled { break }
                switch try? queue.heartbeat(fence, leaseMilliseconds: leaseMilliseconds) {
                case .renewed(let cancel)?:
                    if cancel, !cancelAsked {
                        cancelAsked = true
                        onCancel("cancelled by `airlock runs cancel`")
                    }
                case .lost?, nil:
                    onCancel("the worker lost its lease on the run (attempt \(fence.attempt))")
                    return true
                }
            }
            return false
        }
    }

    /// Stops the heartbeat; returns whether the lease had been lost.
    func stop() async -> Bool {
        task.cancel()
        return await task.value
    }
}
