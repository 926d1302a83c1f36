import AirlockCore

/// Blob references in stored payloads: a string longer than the recorder's threshold is stored
/// once, by digest, and the payload holds `{"$blob": "sha256:HEX", "bytes": N}` in its place.
/// This is the one reader of that form (replay, the timeline, review and diff all resolve
/// through it).
public enum TraceBlobs {
    /// The blob digest (hex) `value` refers to, when it is a blob reference.
    public static func reference(_ value: JSONValue) -> String? {
        guard case .object(let fields) = value, fields.count == 2, fields["bytes"] != nil,
            let reference = fields[TracePayloadPreparer.blobKey]?.stringValue, reference.hasPrefix("sha256:")
        else { return nil }
        return String(reference.dropFirst("sha256:".count))
    }

    /// The digests (hex) of every blob reference in a stored event's canonical body, found
    /// without parsing it; empty when the event has none (its payload needs no resolving).
    public static func references(in body: [UInt8]) -> [String] {
        TracePayloadPreparer.blobReferences(in: body)
    }

    /// `value` with every blob reference replaced by the string it stands for.
    /// - Parameters:
    ///   - value: a stored payload.
    ///   - blobs: the run's blobs by digest.
    ///   - missing: what stands for a reference whose blob is absent, given its digest and the
    ///     reference itself (keep it, or throw).
    public static func resolving<E: Error>(
        _ value: JSONValue, blobs: [String: [UInt8]], missing: (String, JSONValue) throws(E) -> JSONValue
    ) throws(E) -> JSONValue {
        switch value {
        case .array(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try resolving(item, blobs: blobs, missing: missing)) }
            return .array(out)
        case .object(let fields):
            if let digest = reference(value) {
                guard let bytes = blobs[digest] else { return try missing(digest, value) }
                return .string(String(decoding: bytes, as: UTF8.self))
            }
            var out: [String: JSONValue] = [:]
            for (key, item) in fields { out[key] = try resolving(item, blobs: blobs, missing: missing) }
            return .object(out)
        default:
            return value
        }
    }
}
