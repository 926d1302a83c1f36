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
    /// The export format version.
    public static let version: Int64 = 1

    /// Writes a bundle as JSONL.
    /// - Throws: ``TraceError`` `corrupt` when a stored event body is not JSON.
    public static func export(_ bundle: TraceRunBundle) throws(TraceError) -> String {
        let s = bundle.summary
        var header: [String: JSONValue] = [
            "kind": "run", "format": .string(format), "version": .integer(version), "run": .string(s.runID),
            "workflow": .string(s.workflow), "principal": .string(s.principal), "started": .integer(s.startedAt),
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

    /// Reads a JSONL export back into a bundle, exactly as written (nothing is verified here).
    /// - Throws: ``TraceError`` `malformed-export` naming the line and the field.
    public static func parse(_ text: String) throws(TraceError) -> TraceRunBundle {
        var summary: TraceRunSummary?
        var events: [TraceStoredEvent] = []
        var blobs: [String: [UInt8]] = [:]
        var checkpoints: [TraceCheckpoint] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let line = LineReader(number: index + 1, value: try parseLine(raw, number: index + 1))
            switch try line.string("kind") {
            case "run":
                guard summary == nil else { throw line.error("a second run header") }
                guard try line.string("format") == format, try line.integer("version") == version else {
                    throw line.error("not an \(format) version \(version) export")
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
                        time: event["time"]?.integerValue ?? 0, body: event.canonicalBytes,
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
