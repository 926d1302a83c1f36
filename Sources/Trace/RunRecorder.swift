import AirlockCore
import Foundation
import Synchronization

/// Options of a ``RunRecorder``.
public struct TraceRecorderOptions: Sendable {
    /// Sign a checkpoint after at most this many events (default 64); every step boundary
    /// (``RunRecorder/checkpointBoundaries``) and the end of a run are always signed.
    public var checkpointInterval: Int
    /// Strings longer than this many UTF-8 bytes go to the blob table (default 4096).
    public var blobThreshold: Int
    /// The largest canonical event, after blobs are split off, in bytes (default 1 MiB).
    public var maxEventBytes: Int
    /// Applied to every string before it is hashed or stored (default: identity).
    public var redactor: TraceRedactor
    /// Where event times come from (default: the system clock).
    public var clock: TraceClock

    /// Creates options.
    /// - Parameters:
    ///   - checkpointInterval: events between signed checkpoints (default 64).
    ///   - blobThreshold: string size in bytes above which it becomes a blob (default 4096).
    ///   - maxEventBytes: largest canonical event in bytes (default 1 MiB).
    ///   - redactor: the redaction hook (default: identity).
    ///   - clock: the time source (default: system clock).
    public init(
        checkpointInterval: Int = 64, blobThreshold: Int = 4096, maxEventBytes: Int = 1 << 20,
        redactor: @escaping TraceRedactor = { $0 }, clock: TraceClock = .system
    ) {
        self.checkpointInterval = checkpointInterval
        self.blobThreshold = blobThreshold
        self.maxEventBytes = maxEventBytes
        self.redactor = redactor
        self.clock = clock
    }
}

/// One event to append.
public struct TraceEventDraft: Sendable, Hashable {
    /// The event type.
    public var type: TraceEventType
    /// The payload, checked against the type's schema.
    public var payload: JSONValue

    /// Creates a draft.
    public init(_ type: TraceEventType, _ payload: JSONValue) {
        self.type = type
        self.payload = payload
    }
}

/// What an append returns once the event is committed to disk.
public struct TraceReceipt: Sendable, Hashable {
    /// The event's sequence number.
    public var seq: Int64
    /// The event's chain hash.
    public var hash: [UInt8]
    /// The event's recorded time, in nanoseconds since 1970: the run's clock (a replay plays the
    /// recorded times back, so that what the agent derives from them comes out the same).
    public var time: Int64
}

/// Appends the events of one run: redacts, splits blobs, hashes, commits, signs checkpoints.
///
/// Every append is one committed, fsynced transaction before it returns. After a storage
/// failure (disk full, read-only database) the recorder stops: every later append throws
/// `recorder-stopped`, so the run cannot continue unrecorded.
public final class RunRecorder: Sendable {
    /// The run's id.
    public let runID: String
    /// Where the events go.
    public let store: TraceStore
    private let key: TraceSigningKey
    private let options: TraceRecorderOptions
    private let state: Mutex<State>

    private struct State {
        var seq: Int64 = 0
        var head: [UInt8] = TraceStoredEvent.genesisHash
        var sinceCheckpoint = 0
        /// The link of the last checkpoint signed (``TraceCheckpoint/link(prior:)``).
        var checkpointLink: [UInt8] = TraceCheckpoint.genesisLink
        var time: Int64 = 0
        var stopped: TraceError?
    }

    /// The time of the last event recorded, in nanoseconds since 1970.
    public var lastTime: Int64 { state.withLock { $0.time } }

    /// The events after which a checkpoint is always signed: the step boundaries, so that a run
    /// killed at any moment is signed through its last completed step.
    public static let checkpointBoundaries: Set<TraceEventType> = [.runStarted, .modelResponse, .toolResult]

    /// The longest run id accepted.
    public static let maxRunIDLength = 128

    /// Starts a run: validates `started` and appends it as event 1.
    /// - Parameters:
    ///   - store: the trace database.
    ///   - key: the checkpoint signing key.
    ///   - runID: the run's id (default: a new random UUID), `[A-Za-z0-9._-]`, at most 128 characters.
    ///   - started: the `run.started` payload (`workflow`, `principal`, …).
    ///   - options: checkpoint interval, blob threshold, redaction, clock.
    /// - Throws: ``TraceError`` for an invalid id or payload, an existing run, or a storage failure.
    public init(
        store: TraceStore, key: TraceSigningKey, runID: String = UUID().uuidString.lowercased(),
        started: JSONValue, options: TraceRecorderOptions = TraceRecorderOptions()
    ) throws(TraceError) {
        try Self.validate(runID: runID)
        try TraceEventType.runStarted.validate(started)
        self.runID = runID
        self.store = store
        self.key = key
        self.options = options
        self.state = Mutex(State())
        _ = try commit([TraceEventDraft(.runStarted, started)], ending: nil)
    }

    /// Takes up a run whose recorder is gone (its process died, its worker lost the lease): the
    /// stored run is verified against `trustedKeys` first, and the new recorder goes on from its
    /// last event, signing its next checkpoint after the last one stored. Used to record how a
    /// run ended that its own process could not end (`abandoned`, docs/scale.md).
    /// - Parameters:
    ///   - store: the trace.
    ///   - key: the key that signs from here on.
    ///   - runID: the run.
    ///   - trustedKeys: the keys its stored checkpoints must verify against.
    ///   - options: as for a new run.
    /// - Throws: ``TraceError`` `run-not-found`; `recorder-stopped` when it already finished;
    ///   `import-rejected` when the stored run does not verify (nothing is signed over it).
    public static func resuming(
        store: TraceStore, key: TraceSigningKey, runID: String, trustedKeys: [TracePublicKey],
        options: TraceRecorderOptions = TraceRecorderOptions()
    ) throws(TraceError) -> RunRecorder {
        let bundle = try store.bundle(runID: runID)
        guard bundle.summary.finishedStatus == nil else {
            throw TraceError(.recorderStopped, "run \(runID) has already finished (\(bundle.summary.status))")
        }
        let verdict = TraceVerifier(trustedKeys: trustedKeys).verify(bundle)
        guard verdict.status != .broken, let last = bundle.events.last else {
            throw TraceError(.importRejected, "run \(runID) cannot be taken up", cause: verdict.summary)
        }
        var state = State()
        state.seq = last.seq
        state.head = last.hash
        state.time = last.time
        for checkpoint in bundle.checkpoints { state.checkpointLink = checkpoint.link(prior: state.checkpointLink) }
        state.sinceCheckpoint = Int(last.seq - (bundle.checkpoints.last?.seq ?? 0))
        return RunRecorder(store: store, key: key, runID: runID, options: options, state: state)
    }

    private init(store: TraceStore, key: TraceSigningKey, runID: String, options: TraceRecorderOptions, state: State) {
        self.runID = runID
        self.store = store
        self.key = key
        self.options = options
        self.state = Mutex(state)
    }

    /// Whether every byte of `name` is one of `A-Z a-z 0-9 . _ -`: what run ids and trusted-key
    /// names may hold (safe in a path, a shell line and a terminal).
    public static func isPlainName(_ name: String) -> Bool {
        name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E
                || c == 0x5F || c == 0x2D
        }
    }

    /// Checks a run id: non-empty, at most ``maxRunIDLength`` characters of `[A-Za-z0-9._-]`.
    /// - Throws: ``TraceError`` `invalid-run-id`.
    public static func validate(runID: String) throws(TraceError) {
        guard !runID.isEmpty, runID.utf8.count <= maxRunIDLength, isPlainName(runID) else {
            throw TraceError(
                .invalidRunID, "run id '\(runID)' must be 1-\(maxRunIDLength) characters of A-Z a-z 0-9 . _ -")
        }
    }

    /// Appends one event; when it returns the event is committed to disk.
    /// - Throws: ``TraceError`` for a payload that fails its schema, a storage failure, or a
    ///   stopped recorder. `run.started` and `run.finished` are refused here (see ``finish(_:)``).
    @discardableResult
    public func append(_ type: TraceEventType, _ payload: JSONValue) throws(TraceError) -> TraceReceipt {
        let receipts = try append(batch: [TraceEventDraft(type, payload)])
        return receipts[receipts.count - 1]
    }

    /// Appends several events in one transaction (one fsync).
    /// - Throws: as ``append(_:_:)``; on failure none of the batch is recorded.
    @discardableResult
    public func append(batch: [TraceEventDraft]) throws(TraceError) -> [TraceReceipt] {
        for draft in batch where draft.type == .runStarted || draft.type == .runFinished {
            throw TraceError(
                .invalidEvent, "\(draft.type.rawValue) is recorded by RunRecorder.init and finish(_:), not append")
        }
        guard !batch.isEmpty else { return [] }
        return try commit(batch, ending: nil)
    }

    /// Records `run.finished` and signs the final checkpoint in the same transaction.
    /// - Parameter payload: `status` and optionally `answer`.
    /// - Throws: ``TraceError``; afterwards the recorder accepts nothing more.
    @discardableResult
    public func finish(_ payload: JSONValue) throws(TraceError) -> TraceReceipt {
        try TraceEventType.runFinished.validate(payload)
        let status = payload["status"]?.stringValue ?? ""
        let receipts = try commit([TraceEventDraft(.runFinished, payload)], ending: status)
        state.withLock { $0.stopped = TraceError(.recorderStopped, "run \(runID) has finished") }
        return receipts[receipts.count - 1]
    }

    private func commit(_ drafts: [TraceEventDraft], ending status: String?) throws(TraceError) -> [TraceReceipt] {
        let preparer = TracePayloadPreparer(redact: options.redactor, blobThreshold: options.blobThreshold)
        return try state.withLock { (state: inout State) throws(TraceError) -> [TraceReceipt] in
            if let stopped = state.stopped {
                throw TraceError(.recorderStopped, "run \(runID) records nothing more", cause: stopped.description)
            }
            var seq = state.seq
            var head = state.head
            var blobs: [String: [UInt8]] = [:]
            var events: [TraceStoredEvent] = []
            events.reserveCapacity(drafts.count)
            for draft in drafts {
                try draft.type.validate(draft.payload)
                seq += 1
                let time = options.clock.now()
                let body = try preparer.body(
                    runID: runID, seq: seq, time: time, type: draft.type.rawValue, payload: draft.payload,
                    blobs: &blobs)
                guard body.count <= options.maxEventBytes else {
                    throw TraceError(
                        .invalidEvent,
                        "\(draft.type.rawValue): event is \(body.count) bytes after blobs, above maxEventBytes \(options.maxEventBytes)"
                    )
                }
                let hash = TraceStoredEvent.chainHash(prev: head, body: body)
                events.append(
                    TraceStoredEvent(
                        runID: runID, seq: seq, type: draft.type.rawValue, time: time, body: body, prevHash: head,
                        hash: hash))
                head = hash
            }
            let since = state.sinceCheckpoint + drafts.count
            let signNow =
                status != nil || since >= options.checkpointInterval
                || drafts.contains { Self.checkpointBoundaries.contains($0.type) }
            var checkpoint: TraceCheckpoint?
            if signNow {
                let final = status != nil
                let signature = try key.sign(
                    TraceCheckpoint.message(
                        runID: runID, seq: seq, head: head, isFinal: final, prior: state.checkpointLink))
                checkpoint = TraceCheckpoint(
                    runID: runID, seq: seq, head: head, keyID: key.publicKey.keyID, signature: signature,
                    isFinal: final)
            }
            let started = state.seq == 0 ? drafts.first?.payload : nil
            do throws(TraceError) {
                try store.backend.write(stage: "append to run \(runID)") { tx throws(TraceError) in
                    if let started, let first = events.first {
                        try TraceLedger.append(
                            [
                                "entry": "opened", "run": .string(runID),
                                "workflow": .string(started["workflow"]?.stringValue ?? ""),
                                "principal": .string(started["principal"]?.stringValue ?? ""),
                                "started_ns": .integer(first.time),
                            ], key: key, into: tx)
                        try tx.insert(
                            run: TraceRunSummary(
                                runID: runID, workflow: started["workflow"]?.stringValue ?? "",
                                principal: started["principal"]?.stringValue ?? "", startedAt: first.time,
                                finishedStatus: nil, events: 0, steps: 0))
                    }
                    for (digest, bytes) in blobs { try tx.insert(blob: digest, bytes: bytes) }
                    for event in events { try tx.insert(event: event) }
                    if let checkpoint { try tx.insert(checkpoint: checkpoint) }
                    if let status {
                        try tx.markFinished(runID: runID, status: status)
                        try TraceLedger.append(
                            [
                                "entry": "closed", "run": .string(runID), "status": .string(status),
                                "events": .integer(seq), "head": .string(Hex.encode(head)),
                            ], key: key, into: tx)
                    }
                }
            } catch {
                // A run must not continue unrecorded: any storage failure stops it for good.
                if error.code != .runExists { state.stopped = error }
                throw error
            }
            state.seq = seq
            state.head = head
            state.sinceCheckpoint = signNow ? 0 : since
            if let checkpoint { state.checkpointLink = checkpoint.link(prior: state.checkpointLink) }
            state.time = events.last?.time ?? state.time
            return events.map { TraceReceipt(seq: $0.seq, hash: $0.hash, time: $0.time) }
        }
    }
}
