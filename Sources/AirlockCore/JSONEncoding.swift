/// Serialises ``JSONValue`` in Airlock's canonical form or indented for people.
///
/// Canonical form (what is hashed and signed): object keys sorted by their UTF-8 bytes, no
/// insignificant whitespace, strings escaped minimally (`"`, `\`, and control characters as
/// `\b \f \n \r \t` or `\u00XX`), integers in plain decimal, other numbers in Swift's shortest
/// round-trip form with whole finite values written as integers. One value has one byte form.
extension JSONValue {
    /// The canonical UTF-8 bytes of this value.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        JSONWriter.write(self, into: &out, indent: nil, level: 0)
        return out
    }

    /// The canonical form as a string.
    public var canonicalString: String {
        String(decoding: canonicalBytes, as: UTF8.self)
    }

    /// An indented rendering with sorted keys, for people and for `--json` output.
    public var prettyString: String {
        var out: [UInt8] = []
        JSONWriter.write(self, into: &out, indent: "  ", level: 0)
        return String(decoding: out, as: UTF8.self)
    }
}

enum JSONWriter {
    static func write(_ value: JSONValue, into out: inout [UInt8], indent: String?, level: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .integer(let i): writeInteger(i, into: &out)
        case .number(let d): out.append(contentsOf: formatNumber(d).utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty {
                out.append(contentsOf: "[]".utf8)
                return
            }
            out.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(into: &out, indent: indent, level: level + 1)
                write(item, into: &out, indent: indent, level: level + 1)
            }
            newline(into: &out, indent: indent, level: level)
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            if members.isEmpty {
                out.append(contentsOf: "{}".utf8)
                return
            }
            out.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (n, key) in keys.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(into: &out, indent: indent, level: level + 1)
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                // Keys come from the dictionary itself, so the lookup cannot miss.
                write(members[key] ?? .null, into: &out, indent: indent, level: level + 1)
            }
            newline(into: &out, indent: indent, level: level)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Decimal digits written straight into `out` (no `String` per number: the recorder writes
    /// several into every event).
    static func writeInteger(_ i: Int64, into out: inout [UInt8]) {
        if i < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = i.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 20 digits at most, in 24 bytes
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }

    static func newline(into out: inout [UInt8], indent: String?, level: Int) {
        guard let indent else { return }
        out.append(UInt8(ascii: "\n"))
        for _ in 0..<level { out.append(contentsOf: indent.utf8) }
    }

    static func formatNumber(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d.rounded() == d, abs(d) < 9.007_199_254_740_992e15, let i = Int64(exactly: d) { return String(i) }
        return String(d)
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, into out: inout [UInt8]) {
        // Native strings are contiguous UTF-8: scanned and copied as one buffer (the recorder writes
        // every payload through here); bridged or shared ones go byte by byte.
        let copied: Bool? = s.utf8.withContiguousStorageIfAvailable { bytes in
            out.append(UInt8(ascii: "\""))
            guard bytes.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }) else {
                out.removeLast()
                return false
            }
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "\""))
            return true
        }
        if copied == true { return }
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Canonical JSON appended piece by piece, for writers that build one canonical document around
/// values they transform on the way (the trace recorder writes each event body in one pass, its
/// payload redacted and blob-split as it goes, instead of building a second tree to encode).
///
/// The caller keeps the canonical rules the pieces cannot: object keys in UTF-8 byte order, each
/// once, and separators where they belong.
public struct CanonicalJSONBuffer: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8]

    /// Creates an empty buffer.
    /// - Parameter capacity: bytes to reserve (default 256).
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends `value` in canonical form.
    public mutating func append(_ value: JSONValue) {
        JSONWriter.write(value, into: &bytes, indent: nil, level: 0)
    }

    /// Appends `string` as a canonical JSON string.
    public mutating func append(string: String) {
        JSONWriter.writeString(string, into: &bytes)
    }

    /// Appends `integer` in decimal.
    public mutating func append(integer: Int64) {
        JSONWriter.writeInteger(integer, into: &bytes)
    }

    /// Appends bytes as they are: punctuation and keys known to be canonical already.
    public mutating func append(raw: some Sequence<UInt8>) {
        bytes.append(contentsOf: raw)
    }

    /// Appends one byte as it is (`{`, `,`, `:` …).
    public mutating func append(byte: UInt8) {
        bytes.append(byte)
    }
}
