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

    /// The redacted payload with every string longer than `blobThreshold` UTF-8 bytes replaced by
    /// `{"$blob": "sha256:HEX", "bytes": N}`; the moved strings are added to `blobs`.
    func prepare(_ value: JSONValue, type: String, blobs: inout [String: [UInt8]]) throws(TraceError) -> JSONValue {
        var path: [String] = []
        return try prepare(value, type: type, path: &path, blobs: &blobs)
    }

    /// `path` holds the reference tokens down to `value`; it becomes a JSON pointer only for an
    /// error, so that the common case builds no strings.
    private func prepare(
        _ value: JSONValue, type: String, path: inout [String], blobs: inout [String: [UInt8]]
    ) throws(TraceError) -> JSONValue {
        switch value {
        case .string(let s):
            let redacted = redact(s)
            guard redacted.utf8.count > blobThreshold else { return .string(redacted) }
            let bytes = Array(redacted.utf8)
            let digest = SHA256.hex(bytes)
            blobs[digest] = bytes
            return .object([Self.blobKey: .string("sha256:" + digest), "bytes": .integer(Int64(bytes.count))])
        case .array(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                path.append(String(index))
                out.append(try prepare(item, type: type, path: &path, blobs: &blobs))
                path.removeLast()
            }
            return .array(out)
        case .object(let members):
            var out: [String: JSONValue] = [:]
            out.reserveCapacity(members.count)
            for (key, member) in members {
                path.append(key)
                defer { path.removeLast() }
                guard key != Self.blobKey else {
                    throw TraceError(
                        .invalidEvent, "\(type): key \(Self.pointer(path)) is reserved for blob references")
                }
                let redactedKey = redact(key)
                guard out[redactedKey] == nil else {
                    throw TraceError(
                        .invalidEvent,
                        "\(type): redacting key \(Self.pointer(path)) collides with another key in the same object")
                }
                out[redactedKey] = try prepare(member, type: type, path: &path, blobs: &blobs)
            }
            return .object(out)
        default:
            return value
        }
    }

    /// The JSON pointer of `path`'s tokens.
    static func pointer(_ path: [String]) -> String {
        path.reduce("") { JSONPointer.appending($0, $1) }
    }

    /// The SHA-256 hex digests of every blob reference in a canonical body, found without parsing:
    /// in canonical form `{"$blob":"sha256:` can only start a reference (quotes inside strings are
    /// always escaped).
    static func blobReferences(in body: [UInt8]) -> [String] {
        let marker = Array(#"{"$blob":"sha256:"#.utf8)
        let dollar = UInt8(ascii: "$")
        var found: [String] = []
        body.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress, bytes.count >= marker.count + 64 else { return }
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
                    found.append(String(decoding: bytes[digest..<digest + 64], as: UTF8.self))
                    offset = digest + 64 + 2
                } else {
                    offset = at + 1
                }
            }
        }
        return found
    }
}
