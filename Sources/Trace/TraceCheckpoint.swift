import AirlockCore

/// A signed statement "run R had head hash H at sequence S", made every N events and at the end.
public struct TraceCheckpoint: Sendable, Hashable {
    /// The run.
    public var runID: String
    /// The sequence number of the event whose hash is `head`.
    public var seq: Int64
    /// The chain hash at `seq`.
    public var head: [UInt8]
    /// The signing key's id (``TracePublicKey/keyID``).
    public var keyID: String
    /// The Ed25519 signature over ``message``.
    public var signature: [UInt8]
    /// Whether this is the run's final checkpoint, made with `run.finished`.
    public var isFinal: Bool

    /// Creates a checkpoint.
    public init(runID: String, seq: Int64, head: [UInt8], keyID: String, signature: [UInt8], isFinal: Bool) {
        self.runID = runID
        self.seq = seq
        self.head = head
        self.keyID = keyID
        self.signature = signature
        self.isFinal = isFinal
    }

    /// The bytes this checkpoint signs when it follows checkpoints whose link is `prior`
    /// (``TraceCheckpoint/genesisLink`` for a run's first): canonical JSON with a purpose string,
    /// so that a trace signature can never be mistaken for any other signed statement,
    /// `{"final": B, "head": HEX, "prior": HEX, "purpose": "airlock.trace.checkpoint.v2", "run": R, "seq": S}`.
    ///
    /// `prior` chains the run's checkpoints the way `prev_hash` chains its events: one valid
    /// signature on the last checkpoint authenticates every earlier checkpoint's fields, key and
    /// signature bytes, so verifying a run costs one signature check, not one per step.
    public func message(prior: [UInt8]) -> [UInt8] {
        Self.message(runID: runID, seq: seq, head: head, isFinal: isFinal, prior: prior)
    }

    /// The message of checkpoints written before the chain (`airlock.trace.checkpoint.v1`:
    /// `{"final": B, "head": HEX, "purpose": …, "run": R, "seq": S}`), still accepted on its own
    /// so that older traces verify.
    public var legacyMessage: [UInt8] {
        JSONValue.object([
            "final": .bool(isFinal), "head": .string(Hex.encode(head)), "purpose": "airlock.trace.checkpoint.v1",
            "run": .string(runID), "seq": .integer(seq),
        ]).canonicalBytes
    }

    static func message(runID: String, seq: Int64, head: [UInt8], isFinal: Bool, prior: [UInt8]) -> [UInt8] {
        JSONValue.object([
            "final": .bool(isFinal), "head": .string(Hex.encode(head)), "prior": .string(Hex.encode(prior)),
            "purpose": "airlock.trace.checkpoint.v2", "run": .string(runID), "seq": .integer(seq),
        ]).canonicalBytes
    }

    /// The `prior` of a run's first checkpoint: 32 zero bytes.
    public static let genesisLink = [UInt8](repeating: 0, count: 32)

    /// The link the next checkpoint signs after this one, given this one's `prior`:
    /// `SHA-256(message ‖ "\n" ‖ keyID ‖ "\n" ‖ signature)` (the message is canonical JSON and the
    /// key id plain text, neither holding a newline, and a signature is 64 bytes: unambiguous).
    public func link(prior: [UInt8]) -> [UInt8] {
        let hasher = SHA256Hasher()
        hasher.update(message(prior: prior))
        hasher.update([0x0A])
        hasher.update(Array(keyID.utf8))
        hasher.update([0x0A])
        hasher.update(signature)
        return hasher.finalize()
    }

    /// The `prior` each of `checkpoints` (one run's, in sequence order) signs.
    public static func priors(of checkpoints: [TraceCheckpoint]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(checkpoints.count)
        var prior = genesisLink
        for checkpoint in checkpoints {
            out.append(prior)
            prior = checkpoint.link(prior: prior)
        }
        return out
    }
}
