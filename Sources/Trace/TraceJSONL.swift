import AirlockCore
import Foundation

/// The self-verifiable JSONL export of one run, and its reader for `airlock trace import`.
///
/// One JSON object per line, `kind` first in meaning: a `run` header, then every `event` (the
/// hashed event object itself with `seq`, `prev_hash`, `hash`), every referenced `blob`
/// (base64) and every `checkpoint`. Re-canonicalising an event object gives back exactly the
/// bytes that were hashed, so the file verifies on its own.
public enum TraceJSONL {
    /// The `format` named in the header line.
    public static let format = "airlock.trace.jsonl"
    /// The export format version: 2 names, in the header's `canonical`, the canonical form the
    /// run's events were hashed in (``AirlockCore/CanonicalForm``); 1 (before RFC 8785) had no
    /// such field and is read as form 1.
    public static let version: Int64 = 2

    /// Writes a bundle as JSONL.
    /// - Throws: ``TraceError`` `corrupt` when a stored event body is not JSON, or is in no
    ///   canonical form this Airlock can re-create (the importer could not get its bytes back).
    public static func export(_ bundle: TraceRunBundle) throws(TraceError) -> String {
        let s = bundle.summary
        let form = try canonicalForm(of: bundle.events)
        var header: [String: JSONValue] = [
            "kind": "run", "format": .string(format), "version": .integer(version), "run": .string(s.runID),
            "workflow": .string(s.workflow), "principal": .string(s.principal), "started": .integer(s.startedAt),
            "canonical": .integer(form.rawValue),
        ]
        if let status = s.finishedStatus { header["finished_status"] = .string(status) }
        var lines = [JSONValue.object(header).canonicalString]
        for event in bundle.events {
            lines.append(
                JSONValue.object([
                    "kind": "event", "seq": .integer(event.seq), "event": try event.decoded(),
                    "prev_hash": .string(Hex.encode(event.prevHash)), "hash": .string(Hex.encode(event.hash)),
                ]).canonicalString)
        }
        for digest in bundle.blobs.keys.sorted() {
            lines.append(
                JSONValue.object([
                    "kind": "blob", "sha256": .string(digest),
                    "base64": .string(Data(bundle.blobs[digest] ?? []).base64EncodedString()),
                ]).canonicalString)
        }
        for c in bundle.checkpoints {
            lines.append(
                JSONValue.object([
                    "kind": "checkpoint", "seq": .integer(c.seq), "head": .string(Hex.encode(c.head)),
                    "key_id": .string(c.keyID), "signature": .string(Hex.encode(c.signature)),
                    "final": .bool(c.isFinal),
                ]).canonicalString)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The one canonical form in which every body re-encodes to its stored bytes: the current
    /// form for runs recorded since RFC 8785, form 1 for runs recorded before.
    static func canonicalForm(of events: [TraceStoredEvent]) throws(TraceError) -> CanonicalForm {
        let decoded = try events.map { event throws(TraceError) in (event, try event.decoded()) }
        let forms = [CanonicalForm.current] + CanonicalForm.allCases.filter { $0 != .current }
        for form in forms where decoded.allSatisfy({ $0.1.canonicalBytes(form) == $0.0.body }) { return form }
        let odd = decoded.first { pair in !forms.contains { pair.1.canonicalBytes($0) == pair.0.body } }
        throw TraceError(
            .corrupt,
            "event \(odd?.0.seq ?? 0) of run \(bundle(events)): its body is not in a canonical form this Airlock writes,"
                + " or the run mixes forms; export it as the database file instead")
    }

    private static func bundle(_ events: [TraceStoredEvent]) -> String { events.first?.runID ?? "?" }

    /// Reads a JSONL export back into a bundle, exactly as written (nothing is verified here).
    /// - Throws: ``TraceError`` `malformed-export` naming the line and the field.
    public static func parse(_ text: String) throws(TraceError) -> TraceRunBundle {
        var summary: TraceRunSummary?
        var events: [TraceStoredEvent] = []
        var blobs: [String: [UInt8]] = [:]
        var checkpoints: [TraceCheckpoint] = []
        var form = CanonicalForm.current
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let line = LineReader(number: index + 1, value: try parseLine(raw, number: index + 1))
            switch try line.string("kind") {
            case "run":
                guard summary == nil else { throw line.error("a second run header") }
                guard try line.string("format") == format, (1...version).contains(try line.integer("version")) else {
                    throw line.error("not an \(format) export of version 1 to \(version)")
                }
                if try line.integer("version") == 1 {
                    form = .v1
                } else {
                    guard let named = CanonicalForm(rawValue: try line.integer("canonical")) else {
                        throw line.error("field /canonical names no canonical form this Airlock knows")
                    }
                    form = named
                }
                let runID = try line.string("run")
                try RunRecorder.validate(runID: runID)
                summary = TraceRunSummary(
                    runID: runID, workflow: try line.string("workflow"), principal: try line.string("principal"),
                    startedAt: try line.integer("started"), finishedStatus: line.value["finished_status"]?.stringValue,
                    events: 0, steps: 0)
            case "event":
                guard let summary else { throw line.error("an event before the run header") }
                guard let event = line.value["event"], event.objectValue != nil else {
                    throw line.error("field /event must be an object")
                }
                events.append(
                    TraceStoredEvent(
                        runID: summary.runID, seq: try line.integer("seq"), type: event["type"]?.stringValue ?? "",
                        time: event["time"]?.integerValue ?? 0, body: event.canonicalBytes(form),
                        prevHash: try line.hex("prev_hash"), hash: try line.hex("hash")))
            case "blob":
                guard let bytes = Data(base64Encoded: try line.string("base64")) else {
                    throw line.error("field /base64 is not base64")
                }
                blobs[try line.string("sha256")] = Array(bytes)
            case "checkpoint":
                guard let summary else { throw line.error("a checkpoint before the run header") }
                guard let final = line.value["final"]?.boolValue else {
                    throw line.error("field /final must be a boolean")
                }
                checkpoints.append(
                    TraceCheckpoint(
                        runID: summary.runID, seq: try line.integer("seq"), head: try line.hex("head"),
                        keyID: try line.string("key_id"), signature: try line.hex("signature"), isFinal: final))
            case let other:
                throw line.error("unknown kind '\(other)'")
            }
        }
        guard var summary else { throw TraceError(.malformedExport, "line 1: the run header is missing") }
        summary.count(events)
        return TraceRunBundle(summary: summary, events: events, checkpoints: checkpoints, blobs: blobs)
    }

    private static func parseLine(_ raw: Substring, number: Int) throws(TraceError) -> JSONValue {
        do {
            return try JSONParser().parse(String(raw))
        } catch {
            throw TraceError(.malformedExport, "line \(number): not JSON", cause: error)
        }
    }

    private struct LineReader {
        let number: Int
        let value: JSONValue

        func error(_ reason: String) -> TraceError { TraceError(.malformedExport, "line \(number): \(reason)") }

        func string(_ key: String) throws(TraceError) -> String {
            guard let s = value[key]?.stringValue else { throw error("field /\(key) must be a string") }
            return s
        }

        func integer(_ key: String) throws(TraceError) -> Int64 {
            guard case .integer(let i) = value[key] else { throw error("field /\(key) must be an integer") }
            return i
        }

        func hex(_ key: String) throws(TraceError) -> [UInt8] {
            guard let bytes = Hex.decode(try string(key)) else { throw error("field /\(key) must be hex") }
            return bytes
        }
    }
}
