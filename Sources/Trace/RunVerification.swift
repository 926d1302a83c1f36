/// What is wrong with a run, and where: the first bad sequence number.
public struct TraceProblem: Sendable, Hashable, CustomStringConvertible {
    /// The kinds of damage ``TraceVerifier`` tells apart.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// An event's body no longer matches its hash (or was changed and re-hashed).
        case payloadChanged = "payload-changed"
        /// A stored hash or prev-hash was altered while the body is intact.
        case hashChanged = "hash-changed"
        /// A sequence number is absent from the chain.
        case eventMissing = "event-missing"
        /// An event appears a second time.
        case eventDuplicated = "event-duplicated"
        /// Events are out of order (or an event from another position or run was spliced in).
        case orderChanged = "order-changed"
        /// A blob's bytes no longer match its SHA-256.
        case blobChanged = "blob-changed"
        /// A referenced blob is absent.
        case blobMissing = "blob-missing"
        /// A checkpoint's signature does not verify.
        case signatureInvalid = "signature-invalid"
        /// A checkpoint was signed by a key that is not trusted.
        case unknownKey = "unknown-key"
        /// Events are missing at the end: before a signed checkpoint, or after the last one of a
        /// run recorded as finished.
        case truncated = "truncated"
        /// The chain is self-consistent but differs from what a valid checkpoint signed (history rewritten).
        case checkpointMismatch = "checkpoint-mismatch"
        /// `run.finished` has no final signed checkpoint.
        case checkpointMissing = "checkpoint-missing"
        /// Events follow `run.finished` or the final checkpoint.
        case eventAfterFinish = "event-after-finish"
        /// The `runs` row (workflow, principal, start, status) differs from the signed events.
        case indexChanged = "index-changed"
    }

    /// The first sequence number that is wrong.
    public var seq: Int64
    /// What is wrong.
    public var kind: Kind
    /// The detail, for a person.
    public var message: String

    /// Creates a problem.
    public init(seq: Int64, kind: Kind, message: String) {
        self.seq = seq
        self.kind = kind
        self.message = message
    }

    /// `seq N: kind: message`.
    public var description: String { "seq \(seq): \(kind.rawValue): \(message)" }
}

/// The outcome of verifying one run offline.
public struct RunVerification: Sendable, Hashable {
    /// The verdict.
    public enum Status: String, Sendable, Hashable {
        /// Finished, every event chains, the final checkpoint is signed by a trusted key.
        case intact
        /// No `run.finished` (the process died or is still running) but every present event
        /// chains and every checkpoint verifies; events after the last checkpoint are an unsigned tail.
        case incomplete
        /// Something is wrong; see ``RunVerification/problem``.
        case broken
    }

    /// The run.
    public var runID: String
    /// The verdict.
    public var status: Status
    /// How many events were present.
    public var events: Int
    /// The highest sequence number signed by a verified checkpoint (0 when none).
    public var signedThrough: Int64
    /// Events after `signedThrough` that chain correctly but are not signed yet.
    public var unsignedTail: Int64
    /// The first problem, when ``status`` is `broken`.
    public var problem: TraceProblem?
    /// Bytes hashed (event bodies and blobs), for throughput figures.
    public var bytesHashed: Int

    /// Creates a verification result.
    public init(
        runID: String, status: Status, events: Int, signedThrough: Int64, unsignedTail: Int64,
        problem: TraceProblem?, bytesHashed: Int
    ) {
        self.runID = runID
        self.status = status
        self.events = events
        self.signedThrough = signedThrough
        self.unsignedTail = unsignedTail
        self.problem = problem
        self.bytesHashed = bytesHashed
    }

    /// One line for people: `RUN: intact (12 events, signed through 12)`.
    public var summary: String {
        switch status {
        case .intact: return "\(runID): intact (\(events) events, signed through \(signedThrough))"
        case .incomplete:
            return
                "\(runID): incomplete (\(events) events, signed through \(signedThrough), unsigned tail \(unsignedTail))"
        case .broken: return "\(runID): broken at \(problem?.description ?? "unknown")"
        }
    }
}
