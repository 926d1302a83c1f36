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

    /// The bytes that are signed: canonical JSON with a purpose string, so that a trace
    /// signature can never be mistaken for any other signed statement.
    public var message: [UInt8] {
        Self.message(runID: runID, seq: seq, head: head, isFinal: isFinal)
    }

    static func message(runID: String, seq: Int64, head: [UInt8], isFinal: Bool) -> [UInt8] {
        JSONValue.object([
            "final": .bool(isFinal), "head": .string(Hex.encode(head)), "purpose": "airlock.trace.checkpoint.v1",
            "run": .string(runID), "seq": .integer(seq),
        ]).canonicalBytes
    }
}
