import AirlockCore
import RunEvents
import Trace

/// One stored run as replay reads it: each event's type and payload (blob references kept, as
/// they were hashed), and the payloads with blobs resolved for feeding back to the loop.
public struct RecordedRun: Sendable {
    /// One event.
    public struct Event: Sendable, Hashable {
        /// The event's sequence number in its run.
        public var seq: Int64
        /// `model.response`, `tool.result`, …
        public var type: String
        /// The payload as stored (large strings as `{"$blob": …}` references).
        public var payload: JSONValue
        /// The payload's canonical bytes, as hashed: what a replay compares first.
        var payloadBytes: [UInt8]
        /// When it was recorded, in nanoseconds since 1970.
        public var time: Int64
        /// Whether the payload holds a blob reference (else it is fed back as it is, unresolved).
        var hasBlobs = true
    }

    /// The canonical payload inside a canonical event body: keys sort `payload` first and `run`
    /// right after it, so the payload ends where the last `,"run":"` begins.
    static func payloadBytes(of body: [UInt8]) -> [UInt8] {
        let prefix = Array(#"{"payload":"#.utf8)
        let marker = Array(#","run":""#.utf8)
        guard body.count > prefix.count + marker.count, body.starts(with: prefix) else { return body }
        var end = body.count - marker.count
        while end > prefix.count {
            if body[end] == marker[0], body[end..<end + marker.count].elementsEqual(marker) {
                return Array(body[prefix.count..<end])
            }
            end -= 1
        }
        return body
    }

    /// The run id.
    public var runID: String
    /// The events in order.
    public var events: [Event]
    /// The hash of the run's last event, in hex: what a review refers to.
    public var head: String
    /// The verification the replay relied on.
    public var verification: RunVerification

    /// Reads and verifies a run.
    /// - Parameters:
    ///   - runID: the run.
    ///   - store: the trace database.
    ///   - trustedKeys: the keys whose checkpoints count.
    /// - Throws: ``ReplayError`` `unverified` when the run does not verify, `trace` when it
    ///   cannot be read.
    public init(runID: String, store: TraceStore, trustedKeys: [TracePublicKey]) throws(ReplayError) {
        let bundle: TraceRunBundle
        do {
            bundle = try store.bundle(runID: runID)
        } catch {
            if error.code == .runNotFound {
                throw ReplayError(.runNotFound, "no run \(runID) in \(store.path) (see `airlock trace list`)")
            }
            throw ReplayError(.trace, "run \(runID): cannot read it from \(store.path)", cause: error)
        }
        let verification = TraceVerifier(trustedKeys: trustedKeys).verify(bundle)
        guard verification.status == .intact else {
            throw ReplayError(
                .unverified,
                "run \(runID) does not verify, so its record explains nothing (see `airlock trace verify \(runID)`; a site's key is trusted with `airlock trace trust add`)",
                cause: verification.summary)
        }
        var events: [Event] = []
        events.reserveCapacity(bundle.events.count)
        for stored in bundle.events {
            do {
                events.append(
                    Event(
                        seq: stored.seq, type: stored.type, payload: try stored.payload(),
                        payloadBytes: Self.payloadBytes(of: stored.body), time: stored.time,
                        hasBlobs: !TraceBlobs.references(in: stored.body).isEmpty))
            } catch {
                throw ReplayError(.trace, "run \(runID) event \(stored.seq): unreadable", cause: error)
            }
        }
        self.runID = runID
        self.events = events
        self.verification = verification
        self.blobs = bundle.blobs
        self.head = bundle.events.last.map { Hex.encode($0.hash) } ?? ""
    }

    let blobs: [String: [UInt8]]

    /// The run's setup, as recorded.
    /// - Throws: ``ReplayError`` `malformed-record` when the run was recorded by an earlier
    ///   Airlock (its `run.started` has another event schema) or does not decode.
    public func started() throws(ReplayError) -> RunStarted {
        guard let first = events.first, first.type == TraceEventType.runStarted.rawValue else {
            throw ReplayError(.malformedRecord, "run \(runID): the record does not start with run.started")
        }
        let payload = try resolve(first.payload, seq: first.seq)
        let schema = payload["schema"]?.integerValue ?? 1
        guard schema == Int64(RunStarted.currentSchema) else {
            throw ReplayError(
                .malformedRecord,
                "run \(runID) was recorded with run-event schema \(schema) by an earlier Airlock; this one replays schema \(RunStarted.currentSchema) (the run still verifies and shows)"
            )
        }
        do {
            return try RunStarted.decode(payload, seq: first.seq)
        } catch {
            throw ReplayError(.malformedRecord, "run \(runID): run.started does not decode", cause: error)
        }
    }

    /// Every event, typed, with blobs resolved.
    /// - Throws: ``ReplayError`` `malformed-record` naming the first event that does not decode.
    public func typedEvents() throws(ReplayError) -> [RunEvent] {
        var out: [RunEvent] = []
        out.reserveCapacity(events.count)
        for event in events {
            // Most events hold no blob: their payload is used as parsed, without a copy of the tree.
            let payload = event.hasBlobs ? try resolve(event.payload, seq: event.seq) : event.payload
            do {
                out.append(try RunEvent(type: event.type, payload: payload, seq: event.seq))
            } catch {
                throw ReplayError(.malformedRecord, "run \(runID): \(error)")
            }
        }
        return out
    }

    /// The payloads of every event of `type`, in order, with blobs resolved.
    func payloads(_ type: TraceEventType) throws(ReplayError) -> [JSONValue] {
        var out: [JSONValue] = []
        for event in events where event.type == type.rawValue {
            out.append(try resolve(event.payload, seq: event.seq))
        }
        return out
    }

    /// `value` with every blob reference replaced by its string.
    func resolve(_ value: JSONValue, seq: Int64) throws(ReplayError) -> JSONValue {
        try TraceBlobs.resolving(value, blobs: blobs) { (digest, _) throws(ReplayError) in
            throw ReplayError(.malformedRecord, "run \(runID) event \(seq): blob \(digest) is missing")
        }
    }
}
