import AirlockCore

/// One event as stored: its position, the canonical bytes that were hashed, and the chain links.
///
/// `body` is the canonical JSON of
/// `{"payload": …, "run": RUN, "seq": SEQ, "time": NANOS, "type": TYPE, "v": 1}`, and
/// `hash = SHA-256(prevHash ‖ body)`. `type` and `time` are copies kept for listing; the
/// verifier checks they agree with the body.
public struct TraceStoredEvent: Sendable, Hashable {
    /// The run this event belongs to.
    public var runID: String
    /// The 1-based position in the run.
    public var seq: Int64
    /// The event type's raw value.
    public var type: String
    /// Nanoseconds since the Unix epoch.
    public var time: Int64
    /// The canonical bytes that were hashed.
    public var body: [UInt8]
    /// The previous event's hash (32 zero bytes for the first event).
    public var prevHash: [UInt8]
    /// `SHA-256(prevHash ‖ body)`.
    public var hash: [UInt8]

    /// Creates a stored event.
    public init(
        runID: String, seq: Int64, type: String, time: Int64, body: [UInt8], prevHash: [UInt8], hash: [UInt8]
    ) {
        self.runID = runID
        self.seq = seq
        self.type = type
        self.time = time
        self.body = body
        self.prevHash = prevHash
        self.hash = hash
    }

    /// The previous hash of a run's first event.
    public static let genesisHash = [UInt8](repeating: 0, count: 32)

    /// The parsed body (`payload`, `run`, `seq`, `time`, `type`, `v`).
    /// - Throws: ``TraceError`` `corrupt` when the body is not JSON.
    public func decoded() throws(TraceError) -> JSONValue {
        do {
            return try JSONParser().parse(body)
        } catch {
            throw TraceError(.corrupt, "run \(runID) event \(seq): body is not valid JSON", cause: error)
        }
    }

    /// The payload, with large strings still as `{"$blob": …}` references.
    /// - Throws: ``TraceError`` `corrupt` when the body is not JSON.
    public func payload() throws(TraceError) -> JSONValue {
        try decoded()["payload"] ?? .null
    }

    /// The chain hash of `body` after `prevHash`.
    static func chainHash(prev: [UInt8], body: [UInt8]) -> [UInt8] {
        SHA256.hash(prev, body)
    }

    /// The bytes every canonical body starts with: keys sort `payload` first.
    static let bodyPrefix: [UInt8] = Array(#"{"payload":"#.utf8)
}
