import AirlockCore
import CCrypto
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The chain walk of ``ChainWalk`` over rows streamed from the store: the same hash, link and
/// envelope checks, but it only tells whether anything is wrong (``failed``). Telling what is
/// wrong needs the earlier and later events, which it does not keep;
/// ``TraceVerifier/verify(runID:in:)`` then verifies the bundle.
///
/// Reading and hashing overlap. The links are checked here, in row order, on the stored hashes
/// (each row's previous hash is the hash stored in the row before it); the hashes themselves
/// (`SHA-256(prev ‖ body)` against the stored hash), the envelopes and the blob references are
/// checked by a ``ChainHasher`` on another core, batch by batch, while the next rows are read. By
/// induction from the genesis hash the two together are the sequential walk: every stored hash
/// is then the computed one.
struct ChainStream {
    let runID: String
    /// The checkpointed sequence numbers, ascending, and the next one to come (rows arrive in
    /// order): a comparison per row, not a set lookup.
    private let checkpointSeqs: [Int64]
    private var nextCheckpoint = 0
    /// Whether an event failed a check; nothing more is looked at after it.
    private(set) var failed = false
    /// The hash stored in the previous row (the genesis hash before the first).
    private var link = TraceStoredEvent.genesisHash
    private var lastSeq: Int64 = 0
    private var count = 0
    private var bytesHashed = 0
    private var heads: [Int64: [UInt8]] = [:]
    private var finishedAt: Int64?
    private var first: TraceStoredEvent?
    private var finished: TraceStoredEvent?
    private var batch = RowBatch()
    private let hasher: ChainHasher
    /// Every blob reference, checked once the rows are read (the store's connection is busy
    /// stepping through them meanwhile).
    private var blobReferences: [String] = []

    init(runID: String, checkpointSeqs: [Int64]) {
        self.runID = runID
        self.checkpointSeqs = checkpointSeqs.sorted()
        hasher = ChainHasher(runPart: ChainWalk.runPart(runID))
    }

    /// Checks one row's place and link, and hands it to the hasher.
    mutating func take(_ row: TraceEventRowView) {
        guard !failed else { return }
        guard row.seq == lastSeq + 1, row.hash.count == link.count, Self.equal(row.prevHash, link) else {
            failed = true
            return
        }
        link.withUnsafeMutableBytes { $0.copyMemory(from: row.hash) }
        bytesHashed += row.body.count
        count += 1
        while nextCheckpoint < checkpointSeqs.count, checkpointSeqs[nextCheckpoint] < row.seq { nextCheckpoint += 1 }
        if nextCheckpoint < checkpointSeqs.count, checkpointSeqs[nextCheckpoint] == row.seq { heads[row.seq] = link }
        if row.seq == 1 { first = row.stored(runID: runID) }
        if Self.equal(row.type, Self.finishedType) {
            finishedAt = row.seq
            finished = row.stored(runID: runID)
        }
        lastSeq = row.seq
        batch.append(row)
        if batch.bytes.count >= ChainHasher.batchBytes {
            hasher.submit(batch)
            batch = RowBatch()
        }
    }

    /// Waits for the hasher (the last, partial batch is checked on this thread) and tells whether
    /// every hash and envelope held; afterwards ``failed`` includes the hasher's verdict.
    mutating func finishHashing() {
        // The hasher's batches are waited for even after a failed link: none outlives the walk.
        let outcome = hasher.finish(batch)
        batch = RowBatch()
        if !outcome.intact { failed = true }
        blobReferences = outcome.blobReferences
    }

    /// Whether every referenced blob is stored with its digest (each hashed, as ``ChainWalk``
    /// hashes each reference).
    mutating func blobsIntact(in store: TraceStore) throws(TraceError) -> Bool {
        var known: [String: Int] = [:]
        for digest in blobReferences {
            if let size = known[digest] {
                bytesHashed += size
                continue
            }
            guard let bytes = try store.blob(sha256: digest), SHA256.hex(bytes) == digest else { return false }
            known[digest] = bytes.count
            bytesHashed += bytes.count
        }
        return true
    }

    /// What the walk found; meaningful when it did not fail.
    var facts: ChainFacts {
        ChainFacts(
            problem: nil, lastGoodSeq: lastSeq, lastPresent: lastSeq, count: count, finishedAt: finishedAt,
            heads: heads, bytesHashed: bytesHashed, first: first, finished: finished)
    }

    private static let finishedType = Array(TraceEventType.runFinished.rawValue.utf8)

    static func equal(_ stored: UnsafeRawBufferPointer, _ bytes: [UInt8]) -> Bool {
        guard stored.count == bytes.count else { return false }
        return bytes.withUnsafeBytes { b in
            guard let s = stored.baseAddress, let base = b.baseAddress else { return b.isEmpty }
            return memcmp(s, base, b.count) == 0
        }
    }
}

/// Rows copied out of the backend's buffers, back to back in one array, for checking on another
/// thread.
struct RowBatch: Sendable {
    /// One row: its numbers, and where its columns are in ``bytes``.
    struct Row: Sendable {
        var seq: Int64
        var time: Int64
        var type: Range<Int>
        var body: Range<Int>
        var prevHash: Range<Int>
        var hash: Range<Int>
    }

    private(set) var bytes: [UInt8] = []
    private(set) var rows: [Row] = []

    init() {
        bytes.reserveCapacity(ChainHasher.batchBytes + 4096)
    }

    /// Copies a borrowed row in.
    mutating func append(_ view: TraceEventRowView) {
        rows.append(
            Row(
                seq: view.seq, time: view.time, type: copy(view.type), body: copy(view.body),
                prevHash: copy(view.prevHash), hash: copy(view.hash)))
    }

    private mutating func copy(_ column: UnsafeRawBufferPointer) -> Range<Int> {
        let start = bytes.count
        bytes.append(contentsOf: column.bindMemory(to: UInt8.self))
        return start..<bytes.count
    }

    /// Calls `check` with each row viewed in place, in order, until it returns false.
    /// - Returns: whether every row passed.
    func allSatisfy(_ check: (TraceEventRowView) -> Bool) -> Bool {
        bytes.withUnsafeBytes { all in
            rows.allSatisfy { row in
                check(
                    TraceEventRowView(
                        seq: row.seq, time: row.time, type: UnsafeRawBufferPointer(rebasing: all[row.type]),
                        body: UnsafeRawBufferPointer(rebasing: all[row.body]),
                        prevHash: UnsafeRawBufferPointer(rebasing: all[row.prevHash]),
                        hash: UnsafeRawBufferPointer(rebasing: all[row.hash])))
            }
        }
    }
}

/// The hashing half of a streamed verify, shared between the reading thread and one hashing
/// thread (a serial Dispatch queue of its own).
///
/// Each full batch is queued and a job is posted to the hashing thread, which checks the oldest
/// queued batch. When ``inFlight`` batches are already queued, the reading thread checks the
/// oldest one itself instead of waiting; at the end it checks what is still queued while the
/// hashing thread finishes its own. Neither thread waits for the other until the last batch, and
/// a run of any size holds at most about `(inFlight + 2) × batchBytes` of copied rows.
final class ChainHasher: Sendable {
    /// Rows are handed over once a batch holds this many bytes (256 KiB): large enough that a
    /// hand-over costs nothing next to its hashing, small enough that a run below it (most runs)
    /// is checked on the reading thread with no hand-over at all.
    static let batchBytes = 256 * 1024
    /// Batches queued before the reading thread checks one itself (4).
    static let inFlight = 4

    /// What the batches checked so far found.
    struct Outcome: Sendable {
        var intact = true
        var blobReferences: [String] = []
    }

    private let runPart: [UInt8]
    private let group = DispatchGroup()
    /// One hashing thread beside the reading one: on two cores a second would compete with the
    /// reader.
    private let queue = DispatchQueue(label: "airlock.trace.verify", qos: .userInitiated)
    /// Batches waiting, oldest first, with their numbers.
    private let queued = Mutex<[(number: Int, batch: RowBatch)]>([])
    /// Outcomes by batch number, merged in order at the end.
    private let outcomes = Mutex<[Int: Outcome]>([:])
    /// Batches handed over so far (touched by the reading thread only, through ``submit(_:)``).
    private let submitted = Atomic<Int>(0)

    init(runPart: [UInt8]) {
        self.runPart = runPart
    }

    /// Queues `batch` for the hashing thread; checks the oldest queued batch here when
    /// ``inFlight`` are waiting.
    func submit(_ batch: RowBatch) {
        let number = submitted.add(1, ordering: .relaxed).newValue
        let waiting = queued.withLock { queue in
            queue.append((number, batch))
            return queue.count
        }
        queue.async(group: group) { [self] in checkOldest() }
        if waiting > Self.inFlight { checkOldest() }
    }

    /// Checks what is still queued here and `last`, waits for the hashing thread's batch and
    /// merges what every batch found, in order.
    func finish(_ last: RowBatch) -> Outcome {
        while checkOldest() {}
        let tail = check(last)
        group.wait()
        var merged = outcomes.withLock { all in all.sorted { $0.key < $1.key }.map(\.value) }
        merged.append(tail)
        var outcome = Outcome()
        for part in merged {
            outcome.intact = outcome.intact && part.intact
            outcome.blobReferences += part.blobReferences
        }
        return outcome
    }

    /// Takes the oldest queued batch, if any, and checks it on the calling thread.
    /// - Returns: whether there was one.
    @discardableResult
    private func checkOldest() -> Bool {
        guard let (number, batch) = queued.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { return false }
        let outcome = check(batch)
        outcomes.withLock { $0[number] = outcome }
        return true
    }

    /// Each row's hash (`SHA-256(prev ‖ body)` against the stored one) and envelope, and its
    /// blob references.
    private func check(_ batch: RowBatch) -> Outcome {
        var outcome = Outcome()
        var computed = [UInt8](repeating: 0, count: 32)
        outcome.intact = batch.allSatisfy { row in
            computed.withUnsafeMutableBytes { out in
                airlock_sha256_concat(
                    row.prevHash.baseAddress, row.prevHash.count, row.body.baseAddress, row.body.count, out.baseAddress)
            }
            guard ChainStream.equal(row.hash, computed), ChainWalk.wellFormed(row, runPart: runPart) else {
                return false
            }
            outcome.blobReferences += TracePayloadPreparer.blobReferences(in: row.body)
            return true
        }
        return outcome
    }
}
