import AirlockCore

#if canImport(Glibc)
    import Glibc
#endif

/// Rewrites one string before it is hashed or stored; the identity by default.
///
/// Applied to every string in a payload, object keys included, so that the secrets work can
/// guarantee that no secret reaches the trace in the clear.
public typealias TraceRedactor = @Sendable (String) -> String

/// Turns a caller's payload into what is hashed: redacted, with large strings moved to blobs.
struct TracePayloadPreparer {
    let redact: TraceRedactor
    let blobThreshold: Int

    /// The key that marks a blob reference; reserved in payloads.
    static let blobKey = "$blob"

    /// The canonical body of an event (see ``TraceStoredEvent``), the payload redacted, with every
    /// string longer than `blobThreshold` UTF-8 bytes replaced by `{"$blob": "sha256:HEX", "bytes": N}`
    /// (the moved strings are added to `blobs`). Written in one pass, without building the prepared
    /// tree: byte for byte the canonical encoding of
    /// `{"payload": PREPARED, "run": RUN, "seq": SEQ, "time": NANOS, "type": TYPE, "v": V}`.
    func body(
        runID: String, seq: Int64, time: Int64, type: String, payload: JSONValue, blobs: inout [String: [UInt8]]
    ) throws(TraceError) -> [UInt8] {
        var out = CanonicalJSONBuffer(capacity: 512)
        out.append(raw: TraceStoredEvent.bodyPrefix)
        var path: [PathToken] = []
        try write(payload, type: type, path: &path, blobs: &blobs, into: &out)
        out.append(raw: Self.runKey)
        out.append(string: runID)
        out.append(raw: Self.seqKey)
        out.append(integer: seq)
        out.append(raw: Self.timeKey)
        out.append(integer: time)
        out.append(raw: Self.typeKey)
        out.append(string: type)
        out.append(raw: Self.versionKey)
        out.append(integer: TraceEventType.schemaVersion)
        out.append(byte: UInt8(ascii: "}"))
        return out.bytes
    }

    private static let runKey = Array(#","run":"#.utf8)
    private static let seqKey = Array(#","seq":"#.utf8)
    private static let timeKey = Array(#","time":"#.utf8)
    private static let typeKey = Array(#","type":"#.utf8)
    private static let versionKey = Array(#","v":"#.utf8)
    private static let blobReferencePrefix = Array(#"{"$blob":"sha256:"#.utf8)
    private static let blobBytesKey = Array(#"","bytes":"#.utf8)

    /// Writes `value` prepared into `out`: object members in the UTF-8 order of their redacted keys,
    /// as canonical form sorts. `path` holds the reference tokens down to `value`; it becomes a JSON
    /// pointer only for an error, so that the common case builds no strings.
    private func write(
        _ value: JSONValue, type: String, path: inout [PathToken], blobs: inout [String: [UInt8]],
        into out: inout CanonicalJSONBuffer
    ) throws(TraceError) {
        switch value {
        case .string(let s):
            let redacted = redact(s)
            guard redacted.utf8.count > blobThreshold else { return out.append(string: redacted) }
            let bytes = Array(redacted.utf8)
            let digest = SHA256.hex(bytes)
            blobs[digest] = bytes
            out.append(raw: Self.blobReferencePrefix)
            out.append(raw: digest.utf8)
            out.append(raw: Self.blobBytesKey)
            out.append(integer: Int64(bytes.count))
            out.append(byte: UInt8(ascii: "}"))
        case .array(let items):
            out.append(byte: UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(byte: UInt8(ascii: ",")) }
                path.append(.index(index))
                try write(item, type: type, path: &path, blobs: &blobs, into: &out)
                path.removeLast()
            }
            out.append(byte: UInt8(ascii: "]"))
        case .object(let members):
            var entries: [(key: String, original: String, value: JSONValue)] = []
            entries.reserveCapacity(members.count)
            for (key, member) in members {
                guard key != Self.blobKey else {
                    path.append(.key(key))
                    throw TraceError(
                        .invalidEvent, "\(type): key \(Self.pointer(path)) is reserved for blob references")
                }
                entries.append((redact(key), key, member))
            }
            entries.sort { CanonicalKeyOrder.precedes($0.key, $1.key) }
            out.append(byte: UInt8(ascii: "{"))
            for (index, entry) in entries.enumerated() {
                if index > 0 {
                    guard entry.key != entries[index - 1].key else {
                        path.append(.key(entry.original))
                        throw TraceError(
                            .invalidEvent,
                            "\(type): redacting key \(Self.pointer(path)) collides with another key in the same object")
                    }
                    out.append(byte: UInt8(ascii: ","))
                }
                out.append(string: entry.key)
                out.append(byte: UInt8(ascii: ":"))
                path.append(.key(entry.original))
                try write(entry.value, type: type, path: &path, blobs: &blobs, into: &out)
                path.removeLast()
            }
            out.append(byte: UInt8(ascii: "}"))
        default:
            out.append(value)
        }
    }

    /// One step down a payload: an object key or an array index (kept as a number, so that
    /// walking an array builds no strings).
    enum PathToken {
        case key(String)
        case index(Int)
    }

    /// The JSON pointer of `path`'s tokens.
    static func pointer(_ path: [PathToken]) -> String {
        path.reduce("") { pointer, token in
            switch token {
            case .key(let key): JSONPointer.appending(pointer, key)
            case .index(let index): JSONPointer.appending(pointer, String(index))
            }
        }
    }

    /// The SHA-256 hex digests of every blob reference in a canonical body, found without parsing:
    /// in canonical form `{"$blob":"sha256:` can only start a reference (quotes inside strings are
    /// always escaped).
    static func blobReferences(in body: [UInt8]) -> [String] {
        body.withUnsafeBytes { blobReferences(in: $0) }
    }

    /// ``blobReferences(in:)-([UInt8])`` over bytes borrowed in place (a streamed row).
    static func blobReferences(in body: UnsafeRawBufferPointer) -> [String] {
        // The marker is a constant: built once, not per event (a verify scans every body).
        let marker = blobReferencePrefix
        let dollar = UInt8(ascii: "$")
        let bytes = body.assumingMemoryBound(to: UInt8.self)
        guard let base = bytes.baseAddress, bytes.count >= marker.count + 64 else { return [] }
        var found: [String] = []
        // Jump from one '$' to the next with memchr (vectorised); a '$' is rare in payloads and
        // every reference has one at a fixed place in its marker.
        var offset = 2
        let last = bytes.count - (marker.count - 2) - 64
        while offset <= last {
            guard let hit = memchr(base + offset, Int32(dollar), last - offset + 1) else { break }
            let at = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
            let start = at - 2
            if memcmp(base + start, marker, marker.count) == 0 {
                let digest = start + marker.count
                found.append(
                    String(decoding: UnsafeBufferPointer(rebasing: bytes[digest..<digest + 64]), as: UTF8.self))
                offset = digest + 64 + 2
            } else {
                offset = at + 1
            }
        }
        return found
    }
}
