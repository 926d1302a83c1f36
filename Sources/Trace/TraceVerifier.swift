import AirlockCore
import CCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// Recomputes a run's hash chain, blob digests and checkpoint signatures, offline.
///
/// Reports the first bad sequence number and what is wrong with it. Needs nothing but the
/// run's bundle and the public keys it should trust.
public struct TraceVerifier: Sendable {
    /// The keys whose checkpoints are accepted, by key id.
    public var trustedKeys: [String: TracePublicKey]

    /// Creates a verifier.
    /// - Parameter trustedKeys: the public keys to trust (usually the local trace key, or the
    ///   producer's key given with `--key`).
    public init(trustedKeys: [TracePublicKey]) {
        var keys: [String: TracePublicKey] = [:]
        for key in trustedKeys { keys[key.keyID] = key }
        self.trustedKeys = keys
    }

    /// Verifies one run.
    public func verify(_ bundle: TraceRunBundle) -> RunVerification {
        let runID = bundle.summary.runID
        var chain = ChainWalk(runID: runID, events: bundle.events, blobs: bundle.blobs)
        chain.walk(checkpointHeads: Dictionary(bundle.checkpoints.map { ($0.seq, $0.head) }) { a, _ in a })
        let finishedAt = bundle.events.last(where: { $0.type == TraceEventType.runFinished.rawValue })?.seq
        let facts = ChainFacts(
            problem: chain.problem, lastGoodSeq: chain.lastGoodSeq, lastPresent: bundle.events.last?.seq ?? 0,
            count: bundle.events.count, finishedAt: finishedAt, heads: chain.heads, bytesHashed: chain.bytesHashed,
            first: bundle.events.first, finished: finishedAt.flatMap { seq in bundle.events.first { $0.seq == seq } })
        return verdict(summary: bundle.summary, checkpoints: bundle.checkpoints, chain: facts)
    }

    /// Verifies one run as it is stored, streaming its events from the backend straight into the
    /// chain hash (``TraceBackend/scanEvents(runID:_:)``) instead of reading them into a bundle:
    /// the verdict of ``verify(_:)`` over ``TraceStore/bundle(runID:)``, at the cost of the hashing.
    ///
    /// Every check is the same one. When the streamed pass finds anything wrong (in the chain, the
    /// blobs, the checkpoints or the index), the run is read into a bundle and verified again by
    /// ``verify(_:)``, whose walk keeps every earlier event at hand to say exactly what is wrong (a
    /// duplicate, a re-hash, a spliced event): a broken run is reported word for word as before;
    /// an intact or incomplete one is never copied.
    /// - Parameters:
    ///   - runID: the run.
    ///   - store: the trace.
    /// - Throws: ``TraceError`` `run-not-found`, or when the trace cannot be read.
    public func verify(runID: String, in store: TraceStore) throws(TraceError) -> RunVerification {
        guard let summary = try store.backend.runRow(runID) else {
            throw TraceError(.runNotFound, "no run '\(runID)' in \(store.path) (see: airlock trace list)")
        }
        // Checkpoints first: one written while the events are read then signs events that are
        // already there (read the other way round, it could sign past the events read).
        let checkpoints = try store.checkpoints(runID: runID)
        var stream = ChainStream(runID: runID, checkpointSeqs: checkpoints.map(\.seq))
        try store.backend.scanEvents(runID: runID) { row in stream.take(row) }
        stream.finishHashing()
        guard !stream.failed, try stream.blobsIntact(in: store) else { return verify(try store.bundle(runID: runID)) }
        let streamed = verdict(summary: summary, checkpoints: checkpoints, chain: stream.facts)
        // A broken verdict is also the bundle's, read again: a run that finished while it was read
        // (its index row and checkpoints read before its last events) is then judged whole.
        return streamed.status == .broken ? verify(try store.bundle(runID: runID)) : streamed
    }

    /// The verdict from what the chain walk found: the checkpoints' signatures and heads, the end
    /// of the run and the index.
    private func verdict(summary: TraceRunSummary, checkpoints unsorted: [TraceCheckpoint], chain: ChainFacts)
        -> RunVerification
    {
        let runID = summary.runID
        var problems: [TraceProblem] = chain.problem.map { [$0] } ?? []
        let lastSeq = chain.lastGoodSeq
        let lastPresent = chain.lastPresent
        var signedThrough: Int64 = 0
        var final: TraceCheckpoint?

        let checkpoints = unsorted.sorted(by: { $0.seq < $1.seq })
        let priors = TraceCheckpoint.priors(of: checkpoints)
        // The checkpoints chain (each signs its predecessors' link), so one valid signature on the
        // last authenticates every earlier one: one Ed25519 check per run. Only when it fails (a
        // tampered checkpoint, or a trace written before the chain, whose checkpoints each sign
        // alone) is each checked, which also finds the first bad one.
        let chained =
            checkpoints.last.map { last in
                trustedKeys[last.keyID]?.isValidSignature(
                    last.signature, for: last.message(prior: priors[priors.count - 1]))
                    ?? false
            } ?? false
        for (index, checkpoint) in checkpoints.enumerated() {
            if let problem = check(
                checkpoint, prior: chained ? nil : priors[index], heads: chain.heads, lastPresent: lastPresent)
            {
                problems.append(problem)
                break
            }
            signedThrough = max(signedThrough, checkpoint.seq)
            if checkpoint.isFinal { final = checkpoint }
        }
        let finishedAt = chain.finishedAt
        if let final, final.seq < lastPresent {
            problems.append(
                TraceProblem(
                    seq: final.seq + 1, kind: .eventAfterFinish,
                    message: "event \(final.seq + 1) follows the final checkpoint at \(final.seq)"))
        }
        if let finishedAt, finishedAt < lastPresent {
            problems.append(
                TraceProblem(
                    seq: finishedAt + 1, kind: .eventAfterFinish,
                    message: "event \(finishedAt + 1) follows run.finished at \(finishedAt)"))
        }
        if let finishedAt, final == nil {
            problems.append(
                TraceProblem(
                    seq: finishedAt, kind: .checkpointMissing,
                    message: "run.finished at \(finishedAt) has no final signed checkpoint"))
        }
        if finishedAt == nil, summary.finishedStatus != nil || final != nil {
            problems.append(
                TraceProblem(
                    seq: lastPresent + 1, kind: .truncated,
                    message:
                        "the run was recorded as finished but its events end at \(lastPresent): truncated after its last checkpoint"
                ))
        }
        if chain.count == 0 {
            problems.append(TraceProblem(seq: 1, kind: .truncated, message: "the run has no events"))
        }
        problems += Self.indexProblems(summary, first: chain.first, finished: chain.finished)

        if let first = problems.min(by: { $0.seq < $1.seq }) {
            return RunVerification(
                runID: runID, status: .broken, events: chain.count, signedThrough: signedThrough,
                unsignedTail: 0, problem: first, bytesHashed: chain.bytesHashed)
        }
        let intact = final != nil && finishedAt == lastSeq
        return RunVerification(
            runID: runID, status: intact ? .intact : .incomplete, events: chain.count,
            signedThrough: signedThrough, unsignedTail: lastSeq - signedThrough, problem: nil,
            bytesHashed: chain.bytesHashed)
    }

    /// The index's view of a run as the signed events give it.
    private struct SignedIndex: Decodable {
        var workflow: String?
        var principal: String?
        var status: String?
    }

    /// Where the `runs` row (or an export's header) disagrees with the signed `run.started` and
    /// `run.finished`: what `trace list` prints must be evidence.
    /// - Parameters:
    ///   - summary: the index row.
    ///   - first: the run's first event.
    ///   - finished: its `run.finished`, when there is one.
    static func indexProblems(_ summary: TraceRunSummary, first: TraceStoredEvent?, finished: TraceStoredEvent?)
        -> [TraceProblem]
    {
        func payload(_ event: TraceStoredEvent?) -> SignedIndex? {
            guard let event, let value = try? JSONParser().parse(event.body)["payload"] else { return nil }
            return try? JSONValueDecoder().decode(SignedIndex.self, from: value)
        }
        var problems: [TraceProblem] = []
        if let first, first.seq == 1, let started = payload(first) {
            if started.workflow != summary.workflow || started.principal != summary.principal
                || first.time != summary.startedAt
            {
                problems.append(
                    TraceProblem(
                        seq: 1, kind: .indexChanged,
                        message:
                            "the index says workflow \(summary.workflow), principal \(summary.principal); the signed run.started says workflow \(started.workflow ?? "?"), principal \(started.principal ?? "?")"
                    ))
            }
        }
        if let finished, let status = payload(finished)?.status, status != summary.finishedStatus {
            problems.append(
                TraceProblem(
                    seq: finished.seq, kind: .indexChanged,
                    message:
                        "the index says status \(summary.finishedStatus ?? "none"); the signed run.finished says \(status)"
                ))
        }
        return problems
    }

    /// Checks one checkpoint; its signature only when `prior` is given (a later checkpoint's valid
    /// signature authenticates it otherwise), under the chained message or, for a trace written
    /// before the chain, the legacy one.
    private func check(
        _ checkpoint: TraceCheckpoint, prior: [UInt8]?, heads: [Int64: [UInt8]], lastPresent: Int64
    ) -> TraceProblem? {
        guard let key = trustedKeys[checkpoint.keyID] else {
            return TraceProblem(
                seq: checkpoint.seq, kind: .unknownKey,
                message: "checkpoint at \(checkpoint.seq) is signed by \(checkpoint.keyID), which is not a trusted key")
        }
        let signed =
            prior.map { prior in
                key.isValidSignature(checkpoint.signature, for: checkpoint.message(prior: prior))
                    || key.isValidSignature(checkpoint.signature, for: checkpoint.legacyMessage)
            } ?? true
        guard signed else {
            return TraceProblem(
                seq: checkpoint.seq, kind: .signatureInvalid,
                message: "the signature of checkpoint \(checkpoint.seq) does not verify with \(checkpoint.keyID)")
        }
        guard checkpoint.seq <= lastPresent else {
            return TraceProblem(
                seq: lastPresent + 1, kind: .truncated,
                message: "a checkpoint signs event \(checkpoint.seq) but the events end at \(lastPresent)")
        }
        // A missing head means the chain broke earlier; that problem is already reported.
        if let head = heads[checkpoint.seq], head != checkpoint.head {
            return TraceProblem(
                seq: checkpoint.seq, kind: .checkpointMismatch,
                message: "events up to \(checkpoint.seq) do not hash to the signed head: history was rewritten")
        }
        return nil
    }
}

/// One pass over a run's events: recomputes the chain, stops at the first problem and works out
/// which kind it is.
struct ChainWalk {
    let runID: String
    let events: [TraceStoredEvent]
    let blobs: [String: [UInt8]]
    var heads: [Int64: [UInt8]] = [:]
    var problem: TraceProblem?
    var lastGoodSeq: Int64 = 0
    var bytesHashed = 0

    init(runID: String, events: [TraceStoredEvent], blobs: [String: [UInt8]]) {
        self.runID = runID
        self.events = events
        self.blobs = blobs
    }

    mutating func walk(checkpointHeads: [Int64: [UInt8]]) {
        // Two 32-byte buffers, reused for every event: the link before and the one computed; an
        // array is made only for a checkpoint's head or a problem's report.
        var prev = TraceStoredEvent.genesisHash
        var computed = [UInt8](repeating: 0, count: 32)
        // The envelope's run part is the same for every event; build it once.
        let runPart = Self.runPart(runID)
        for index in events.indices {
            let event = events[index]
            let expected = lastGoodSeq + 1
            if event.seq != expected {
                problem = positionProblem(event, expected: expected, before: events[..<index])
                return
            }
            let linked = event.withRowView { row in
                Self.chainHash(prev: prev, body: row.body, into: &computed)
                return Self.wellFormed(row, runPart: runPart)
            }
            bytesHashed += event.body.count
            if !(computed == event.hash && event.prevHash == prev && linked) {
                let next = index + 1 < events.count ? events[index + 1] : nil
                let witness = next.flatMap { $0.seq == event.seq + 1 ? $0.prevHash : nil } ?? checkpointHeads[event.seq]
                problem = contentProblem(
                    event, prev: prev, computed: computed, witness: witness, before: events[..<index])
                return
            }
            if let blobProblem = checkBlobs(event) {
                problem = blobProblem
                return
            }
            if checkpointHeads[event.seq] != nil { heads[event.seq] = computed }
            swap(&prev, &computed)
            lastGoodSeq = event.seq
        }
    }

    /// `SHA-256(prev ‖ body)` written into `out` (32 bytes), hashed straight from the stored
    /// bytes: the same digest as ``TraceStoredEvent/chainHash(prev:body:)``, without allocating.
    static func chainHash(prev: [UInt8], body: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        prev.withUnsafeBytes { p in
            out.withUnsafeMutableBytes { o in
                airlock_sha256_concat(p.baseAddress, p.count, body.baseAddress, body.count, o.baseAddress)
            }
        }
    }

    /// Whether the body starts with the payload key and ends with this row's envelope
    /// (`,"run":…,"seq":N,"time":T,"type":…,"v":V}`), compared in place without building the
    /// envelope: a verify checks every event.
    static func wellFormed(_ row: TraceEventRowView, runPart: [UInt8]) -> Bool {
        let typeBytes = row.type
        // Event types are plain names, whose canonical form is the name in quotes: compared in
        // place; anything else (a column an attacker rewrote) goes through the encoder.
        let plainType = typeBytes.allSatisfy { $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C && $0 < 0x80 }
        let encoded = plainType ? [] : JSONValue.string(String(decoding: typeBytes, as: UTF8.self)).canonicalBytes
        var m = BackwardMatch(body: row.body)
        guard m.byte(UInt8(ascii: "}")), m.number(TraceEventType.schemaVersion), m.bytes(Self.versionKey)
        else { return false }
        if plainType {
            guard m.byte(UInt8(ascii: "\"")), m.bytes(typeBytes), m.byte(UInt8(ascii: "\"")) else { return false }
        } else {
            guard m.bytes(encoded) else { return false }
        }
        return m.bytes(Self.typeKey) && m.number(row.time) && m.bytes(Self.timeKey) && m.number(row.seq)
            && m.bytes(Self.seqKey) && m.bytes(runPart) && m.begins(with: TraceStoredEvent.bodyPrefix)
    }

    /// The envelope's run part, `,"run":RUN`: the same for every event of a run, so built once.
    static func runPart(_ runID: String) -> [UInt8] {
        Array(#","run":"#.utf8) + JSONValue.string(runID).canonicalBytes
    }

    /// Matches a body from its end backwards, each match moving `end` back over what it matched
    /// (a value, not captured state, so the walk costs no allocation or dynamic access check).
    private struct BackwardMatch {
        let body: UnsafeRawBufferPointer
        var end: Int

        init(body: UnsafeRawBufferPointer) {
            self.body = body
            end = body.count
        }

        mutating func byte(_ byte: UInt8) -> Bool {
            guard end > 0, body[end - 1] == byte else { return false }
            end -= 1
            return true
        }

        /// `bytes` ending at `end`, compared with `memcmp`.
        mutating func bytes(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard end >= bytes.count else { return false }
            if let base = bytes.baseAddress, let at = body.baseAddress {
                guard memcmp(at + (end - bytes.count), base, bytes.count) == 0 else { return false }
            }
            end -= bytes.count
            return true
        }

        mutating func bytes(_ bytes: [UInt8]) -> Bool {
            bytes.withUnsafeBytes { self.bytes($0) }
        }

        /// Whether the body starts with `prefix`, before what was matched from the end.
        func begins(with prefix: [UInt8]) -> Bool {
            guard end >= prefix.count else { return false }
            return prefix.withUnsafeBytes { p in
                guard let at = body.baseAddress, let base = p.baseAddress else { return p.isEmpty }
                return memcmp(at, base, p.count) == 0
            }
        }

        /// `value` in decimal.
        mutating func number(_ value: Int64) -> Bool {
            var magnitude = value.magnitude
            repeat {
                guard byte(UInt8(ascii: "0") + UInt8(magnitude % 10)) else { return false }
                magnitude /= 10
            } while magnitude > 0
            return value >= 0 || byte(UInt8(ascii: "-"))
        }
    }

    private static let seqKey = Array(#","seq":"#.utf8)
    private static let timeKey = Array(#","time":"#.utf8)
    private static let typeKey = Array(#","type":"#.utf8)
    private static let versionKey = Array(#","v":"#.utf8)

    /// The sequence number of an earlier event with this hash, if any.
    private static func earlier(_ hash: [UInt8], in before: ArraySlice<TraceStoredEvent>) -> Int64? {
        before.first { $0.hash == hash }?.seq
    }

    private func positionProblem(
        _ event: TraceStoredEvent, expected: Int64, before: ArraySlice<TraceStoredEvent>
    ) -> TraceProblem {
        if event.seq < expected {
            if let original = Self.earlier(event.hash, in: before) {
                return TraceProblem(
                    seq: expected, kind: .eventDuplicated, message: "event \(original) appears again at \(expected)")
            }
            return TraceProblem(
                seq: expected, kind: .orderChanged, message: "event \(event.seq) appears where \(expected) belongs")
        }
        if events.contains(where: { $0.seq == expected }) {
            return TraceProblem(
                seq: expected, kind: .orderChanged, message: "event \(event.seq) appears before event \(expected)")
        }
        return TraceProblem(
            seq: expected, kind: .eventMissing,
            message: "event \(expected) is missing; the next present is \(event.seq)")
    }

    private func contentProblem(
        _ event: TraceStoredEvent, prev: [UInt8], computed: [UInt8], witness: [UInt8]?,
        before: ArraySlice<TraceStoredEvent>
    ) -> TraceProblem {
        let seq = event.seq
        guard let decoded = try? JSONParser().parse(event.body) else {
            return TraceProblem(seq: seq, kind: .payloadChanged, message: "event \(seq)'s body is not valid JSON")
        }
        if let bodyRun = decoded["run"]?.stringValue, bodyRun != runID {
            return TraceProblem(
                seq: seq, kind: .orderChanged, message: "event \(seq) belongs to run '\(bodyRun)', not this run")
        }
        if let bodySeq = decoded["seq"]?.integerValue, bodySeq != seq {
            if let original = Self.earlier(event.hash, in: before) {
                return TraceProblem(
                    seq: seq, kind: .eventDuplicated, message: "event \(original) appears again at \(seq)")
            }
            return TraceProblem(
                seq: seq, kind: .orderChanged, message: "the event stored at \(seq) is event \(bodySeq)")
        }
        if computed == event.hash {
            if event.prevHash != prev {
                return TraceProblem(
                    seq: seq, kind: .hashChanged, message: "event \(seq)'s stored prev_hash was altered")
            }
            return TraceProblem(
                seq: seq, kind: .payloadChanged,
                message: "event \(seq)'s type or time columns differ from its hashed body")
        }
        if event.prevHash != prev, TraceStoredEvent.chainHash(prev: event.prevHash, body: event.body) == event.hash {
            // This event is consistent with a predecessor that no longer exists: the previous
            // event was changed and re-hashed.
            return TraceProblem(
                seq: seq - 1, kind: .payloadChanged,
                message: "event \(seq - 1) was changed and re-hashed: event \(seq) links to its original hash")
        }
        if let witness, witness == computed {
            return TraceProblem(
                seq: seq, kind: .hashChanged, message: "event \(seq)'s stored hash was altered; its body is intact")
        }
        return TraceProblem(
            seq: seq, kind: .payloadChanged, message: "event \(seq)'s body does not match its hash")
    }

    private mutating func checkBlobs(_ event: TraceStoredEvent) -> TraceProblem? {
        for digest in TracePayloadPreparer.blobReferences(in: event.body) {
            guard let bytes = blobs[digest] else {
                return TraceProblem(
                    seq: event.seq, kind: .blobMissing, message: "event \(event.seq)'s blob sha256:\(digest) is missing"
                )
            }
            bytesHashed += bytes.count
            guard SHA256.hex(bytes) == digest else {
                return TraceProblem(
                    seq: event.seq, kind: .blobChanged,
                    message: "event \(event.seq)'s blob sha256:\(digest) no longer has that digest")
            }
        }
        return nil
    }
}

/// What a walk over a run's events found, as the checkpoint, end-of-run and index checks of
/// ``TraceVerifier`` need it (from ``ChainWalk`` over a bundle, or ``ChainStream`` over the store).
struct ChainFacts {
    /// The first problem in the chain or its blobs.
    var problem: TraceProblem?
    /// The last event that chains.
    var lastGoodSeq: Int64
    /// The last event present.
    var lastPresent: Int64
    /// How many events are present.
    var count: Int
    /// The last `run.finished`, by its type column.
    var finishedAt: Int64?
    /// The computed head at each checkpointed sequence number.
    var heads: [Int64: [UInt8]]
    /// Bytes hashed (bodies and blobs).
    var bytesHashed: Int
    /// The first event (for the index check).
    var first: TraceStoredEvent?
    /// The `run.finished` at `finishedAt`.
    var finished: TraceStoredEvent?
}
