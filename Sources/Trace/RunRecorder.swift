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
/// An event is either committed at once (``append(_:_:)``, ``append(batch:)``, ``finish(_:)``:
/// one fsynced transaction before it returns) or held (``appendPending(_:_:)``): numbered, timed,
/// redacted and chained at once, and written with every other held event at the next commit
/// (``commit()``, or any committing append), in one transaction. The agent holds the events of a
/// step and commits at its barriers, before anything leaves the process (a tool runs, a person is
/// asked) and once a tool's result is recorded, so that a step costs two fsyncs, not six
/// (docs/trace.md, "Durability and failures"). After a storage failure (disk full, read-only
/// database) the recorder stops: every later append throws `recorder-stopped`, so the run cannot
/// continue unrecorded.
public final class RunRecorder: Sendable {
    /// The run's id.
    public let runID: String
    /// Where the events go.
    public let store: TraceStore
    private let key: TraceSigningKey
    private let options: TraceRecorderOptions
    private let state: Mutex<State>
    /// The `run.started` payload of a new run (its workflow and principal go into the `runs`
    /// row and the ledger's `opened` entry); `nil` for a run taken up (``resuming(store:key:runID:trustedKeys:options:)``).
    private let startedPayload: JSONValue?

    private struct State {
        var seq: Int64 = 0
        var head: [UInt8] = TraceStoredEvent.genesisHash
        var sinceCheckpoint = 0
        /// The link of the last checkpoint signed (``TraceCheckpoint/link(prior:)``).
        var checkpointLink: [UInt8] = TraceCheckpoint.genesisLink
        var time: Int64 = 0
        var stopped: TraceError?
        /// Events numbered and chained but not yet written (``appendPending(_:_:)``).
        var pending: [TraceStoredEvent] = []
        /// The blobs the pending events refer to.
        var pendingBlobs: [String: [UInt8]] = [:]
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
        self.startedPayload = started
        _ = try record([TraceEventDraft(.runStarted, started)], commit: true, ending: nil)
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
        self.startedPayload = nil
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

    /// Appends one event; when it returns the event, and every event held before it, is
    /// committed to disk.
    /// - Throws: ``TraceError`` for a payload that fails its schema, a storage failure, or a
    ///   stopped recorder. `run.started` and `run.finished` are refused here (see ``finish(_:)``).
    @discardableResult
    public func append(_ type: TraceEventType, _ payload: JSONValue) throws(TraceError) -> TraceReceipt {
        let receipts = try append(batch: [TraceEventDraft(type, payload)])
        return receipts[receipts.count - 1]
    }

    /// Appends several events in one transaction (one fsync), with every event held before them.
    /// - Throws: as ``append(_:_:)``; on failure none of the batch is recorded.
    @discardableResult
    public func append(batch: [TraceEventDraft]) throws(TraceError) -> [TraceReceipt] {
        try Self.refuseEnds(batch)
        guard !batch.isEmpty else {
            try commit()
            return []
        }
        return try record(batch, commit: true, ending: nil)
    }

    /// Holds one event: checked, redacted, numbered, timed and chained now, written at the next
    /// commit (``commit()``, ``append(_:_:)`` or ``finish(_:)``). Until then a crash loses it and
    /// every event held after it, never an event before it: what is on disk is always a prefix
    /// of the run, signed through its last commit.
    /// - Returns: the event's receipt (its sequence number, hash and time are final).
    /// - Throws: as ``append(_:_:)``, except that a storage failure comes at the commit.
    @discardableResult
    public func appendPending(_ type: TraceEventType, _ payload: JSONValue) throws(TraceError) -> TraceReceipt {
        let draft = TraceEventDraft(type, payload)
        try Self.refuseEnds([draft])
        let receipts = try record([draft], commit: false, ending: nil)
        return receipts[receipts.count - 1]
    }

    /// Writes every held event in one transaction (one fsync), signing a checkpoint when a step
    /// boundary is among them or the checkpoint interval has passed. Nothing held: nothing written.
    /// - Throws: ``TraceError`` for a storage failure (the recorder then stops) or a stopped recorder.
    public func commit() throws(TraceError) {
        _ = try record([], commit: true, ending: nil)
    }

    /// How many events are held, not yet written.
    public var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Records `run.finished`, with every held event, and signs the final checkpoint in the same
    /// transaction.
    /// - Parameter payload: `status` and optionally `answer`.
    /// - Throws: ``TraceError``; afterwards the recorder accepts nothing more.
    @discardableResult
    public func finish(_ payload: JSONValue) throws(TraceError) -> TraceReceipt {
        try TraceEventType.runFinished.validate(payload)
        let status = payload["status"]?.stringValue ?? ""
        let receipts = try record([TraceEventDraft(.runFinished, payload)], commit: true, ending: status)
        state.withLock { $0.stopped = TraceError(.recorderStopped, "run \(runID) has finished") }
        return receipts[receipts.count - 1]
    }

    private static func refuseEnds(_ drafts: [TraceEventDraft]) throws(TraceError) {
        for draft in drafts where draft.type == .runStarted || draft.type == .runFinished {
            throw TraceError(
                .invalidEvent, "\(draft.type.rawValue) is recorded by RunRecorder.init and finish(_:), not append")
        }
    }

    /// Numbers, chains and holds `drafts` (all or none of them), then, with `commit`, writes
    /// everything held.
    private func record(_ drafts: [TraceEventDraft], commit: Bool, ending status: String?) throws(TraceError)
        -> [TraceReceipt]
    {
        let preparer = TracePayloadPreparer(redact: options.redactor, blobThreshold: options.blobThreshold)
        return try state.withLock { (state: inout State) throws(TraceError) -> [TraceReceipt] in
            if let stopped = state.stopped {
                throw TraceError(.recorderStopped, "run \(runID) records nothing more", cause: stopped.description)
            }
            var seq = state.seq
            var head = state.head
            var time = state.time
            var blobs = state.pendingBlobs
            var held = state.pending
            var receipts: [TraceReceipt] = []
            receipts.reserveCapacity(drafts.count)
            for draft in drafts {
                try draft.type.validate(draft.payload)
                seq += 1
                time = options.clock.now()
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
                held.append(
                    TraceStoredEvent(
                        runID: runID, seq: seq, type: draft.type.rawValue, time: time, body: body, prevHash: head,
                        hash: hash))
                receipts.append(TraceReceipt(seq: seq, hash: hash, time: time))
                head = hash
            }
            state.seq = seq
            state.head = head
            state.time = time
            state.pending = held
            state.pendingBlobs = blobs
            if commit { try write(&state, ending: status) }
            return receipts
        }
    }

    /// Writes the held events in one transaction, with a checkpoint when one is due.
    private func write(_ state: inout State, ending status: String?) throws(TraceError) {
        let events = state.pending
        guard !events.isEmpty else { return }
        let seq = state.seq
        let head = state.head
        let blobs = state.pendingBlobs
        let since = state.sinceCheckpoint + events.count
        let signNow =
            status != nil || since >= options.checkpointInterval
            || events.contains { TraceEventType(rawValue: $0.type).map(Self.checkpointBoundaries.contains) ?? false }
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
        let started = events.first?.seq == 1 ? startedPayload : nil
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
        state.pending = []
        state.pendingBlobs = [:]
        state.sinceCheckpoint = signNow ? 0 : since
        if let checkpoint { state.checkpointLink = checkpoint.link(prior: state.checkpointLink) }
    }
}
