/// Serialises ``JSONValue`` in Airlock's canonical form or indented for people.
///
/// Canonical form (what is hashed and signed) is RFC 8785, the JSON Canonicalization Scheme, so a
/// verifier in another language needs only a JCS library: object keys sorted by their UTF-16 code
/// units, no insignificant whitespace, strings escaped as ECMAScript's `JSON.stringify` does (`"`,
/// `\`, and control characters as `\b \f \n \r \t` or `\u00xx`), numbers as ECMAScript writes
/// them (`1e-7`, `0.000001`, `1e+21`). One deliberate difference: ``JSONValue/integer(_:)`` is
/// written exactly, also beyond ±2^53, where JCS (whose numbers are all IEEE doubles) would round.
/// Traces written before RFC 8785 was adopted used ``CanonicalForm/v1``; see docs/trace.md.
extension JSONValue {
    /// The canonical UTF-8 bytes of this value (``CanonicalForm/current``).
    public var canonicalBytes: [UInt8] {
        canonicalBytes(.current)
    }

    /// The bytes of this value in the canonical form `form` (an earlier form to re-create what an
    /// earlier Airlock hashed).
    public func canonicalBytes(_ form: CanonicalForm) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        JSONWriter.write(self, into: &out, indent: nil, level: 0, form: form)
        return out
    }

    /// The canonical form as a string.
    public var canonicalString: String {
        String(decoding: canonicalBytes, as: UTF8.self)
    }

    /// An indented rendering with sorted keys, for people and for `--json` output.
    public var prettyString: String {
        var out: [UInt8] = []
        JSONWriter.write(self, into: &out, indent: "  ", level: 0, form: .current)
        return String(decoding: out, as: UTF8.self)
    }
}

/// Which canonical form bytes were written in: what a reader must re-create to get the bytes that
/// were hashed. Recorded where canonical bytes are re-created from parsed JSON (the JSONL export's
/// header); the trace database stores the hashed bytes themselves and needs no form.
public enum CanonicalForm: Int64, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Airlock's first form: keys in UTF-8 byte order, numbers that are not whole in Swift's
    /// shortest round-trip text (`1e-07`, `1e+16`), whole ones below 2^53 as integers.
    case v1 = 1
    /// RFC 8785 (JCS): keys in UTF-16 code-unit order, numbers as ECMAScript writes them.
    case rfc8785 = 2

    /// The form Airlock writes.
    public static let current = CanonicalForm.rfc8785

    public var description: String { self == .v1 ? "1 (Airlock v1)" : "2 (RFC 8785)" }
}

/// Canonical key order: RFC 8785 sorts object keys by their UTF-16 code units. That is the order
/// of Unicode scalars except that U+E000–U+FFFF sort after every scalar above U+FFFF (whose
/// UTF-16 lead surrogates are 0xD800–0xDBFF); ASCII keys, nearly all of them, compare as bytes.
public enum CanonicalKeyOrder {
    /// Whether key `a` comes before key `b` in `form`.
    public static func precedes(_ a: String, _ b: String, form: CanonicalForm = .current) -> Bool {
        if form == .v1 { return a.utf8.lexicographicallyPrecedes(b.utf8) }
        // UTF-8 byte order is scalar order, and scalar order is UTF-16 order except between
        // U+E000–U+FFFF (lead bytes 0xEE, 0xEF) and the supplementary planes (0xF0–0xF4): the
        // first differing bytes decide unless one of them is such a lead byte.
        var l = a.utf8.makeIterator()
        var r = b.utf8.makeIterator()
        while true {
            guard let x = l.next() else { return r.next() != nil }
            guard let y = r.next() else { return false }
            if x == y { continue }
            if x < 0xEE && y < 0xEE { return x < y }
            break
        }
        var left = a.unicodeScalars.makeIterator()
        var right = b.unicodeScalars.makeIterator()
        while true {
            guard let l = left.next() else { return right.next() != nil }
            guard let r = right.next() else { return false }
            if l != r { return weight(l) < weight(r) }
        }
    }

    /// A scalar's position in UTF-16 code-unit order.
    private static func weight(_ scalar: Unicode.Scalar) -> UInt32 {
        let v = scalar.value
        if v < 0xD800 { return v }
        if v >= 0x10000 { return 0xD800 + (v - 0x10000) }  // below every U+E000–U+FFFF
        return v + 0x10_0000  // U+E000–U+FFFF, after the supplementary planes
    }
}

enum JSONWriter {
    static func write(
        _ value: JSONValue, into out: inout [UInt8], indent: String?, level: Int, form: CanonicalForm = .current
    ) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .integer(let i): writeInteger(i, into: &out)
        case .number(let d):
            if form == .v1 { out.append(contentsOf: formatNumberV1(d).utf8) } else { writeNumber(d, into: &out) }
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
                write(item, into: &out, indent: indent, level: level + 1, form: form)
            }
            newline(into: &out, indent: indent, level: level)
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            if members.isEmpty {
                out.append(contentsOf: "{}".utf8)
                return
            }
            out.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { CanonicalKeyOrder.precedes($0, $1, form: form) }
            for (n, key) in keys.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(into: &out, indent: indent, level: level + 1)
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                // Keys come from the dictionary itself, so the lookup cannot miss.
                write(members[key] ?? .null, into: &out, indent: indent, level: level + 1, form: form)
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

    /// `d` as ECMAScript's Number::toString writes it (RFC 8785 section 3.2.2.3): the shortest
    /// digits that round-trip (Swift's own shortest form supplies them), placed by the exponent:
    /// plain below 1e21, `0.000001` down to 1e-6, exponential (`1e-7`, `1.5e+21`) beyond. Not
    /// finite (which JSON cannot hold, and the parser never produces) is `null`.
    static func formatNumber(_ d: Double) -> String {
        var out: [UInt8] = []
        writeNumber(d, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// ``formatNumber(_:)`` written straight into `out`, reading the digits off the bytes of
    /// Swift's shortest description (every `wall_seconds` of every execution record comes here).
    static func writeNumber(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else { return out.append(contentsOf: "null".utf8) }
        if d == 0 { return out.append(UInt8(ascii: "0")) }  // and -0
        let (digits, n) = shortestDigits(d.magnitude)
        let k = digits.count
        let zero = UInt8(ascii: "0")
        if d < 0 { out.append(UInt8(ascii: "-")) }
        if k <= n && n <= 21 {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(zero, count: n - k))
        } else if 0 < n && n <= 21 {
            out.append(contentsOf: digits[..<n])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[n...])
        } else if -6 < n && n <= 0 {
            out.append(zero)
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: repeatElement(zero, count: -n))
            out.append(contentsOf: digits)
        } else {
            let e = n - 1
            out.append(digits[0])
            if k > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[1...])
            }
            out.append(contentsOf: (e >= 0 ? "e+" : "e-").utf8)
            writeInteger(Int64(e.magnitude), into: &out)
        }
    }

    /// The shortest round-trip digits of a positive finite `d` as ASCII bytes (no leading or
    /// trailing zeros) and `n` such that `d` = 0.DIGITS × 10^n, read off Swift's shortest
    /// description (`1.2345e-07`, `0.001`, `123.0`).
    static func shortestDigits(_ d: Double) -> ([UInt8], Int) {
        var text = d.description
        var digits: [UInt8] = []
        digits.reserveCapacity(20)
        var whole = 0
        var exponent = 0
        text.withUTF8 { bytes in
            var index = 0
            var seenPoint = false
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { break }
                if byte == UInt8(ascii: ".") {
                    seenPoint = true
                } else {
                    digits.append(byte)
                    if !seenPoint { whole += 1 }
                }
                index += 1
            }
            if index < bytes.count {
                index += 1
                var negative = false
                if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                    negative = bytes[index] == UInt8(ascii: "-")
                    index += 1
                }
                while index < bytes.count {
                    exponent = exponent * 10 + Int(bytes[index] &- UInt8(ascii: "0"))
                    index += 1
                }
                if negative { exponent = -exponent }
            }
        }
        let leading = digits.prefix { $0 == UInt8(ascii: "0") }.count
        var end = digits.count
        while end > leading, digits[end - 1] == UInt8(ascii: "0") { end -= 1 }
        return (Array(digits[leading..<end]), whole - leading + exponent)
    }

    /// ``CanonicalForm/v1``'s numbers: whole values below 2^53 as integers, others in Swift's
    /// shortest round-trip form.
    static func formatNumberV1(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d.rounded() == d, abs(d) < 9.007_199_254_740_992e15, let i = Int64(exactly: d) { return String(i) }
        return String(d)
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Whether any byte is a control character, `"` or `\\`: eight bytes at a time (a word
    /// holds such a byte when `haszero`/`hasless` finds one in it, the bit tricks of "Bit
    /// Twiddling Hacks"), the tail byte by byte. Every string of every trace event is scanned.
    static func needsEscaping(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = ones &* 0x22
        let backslashes = ones &* 0x5C
        let raw = UnsafeRawPointer(base)
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            let quote = word ^ quotes
            let backslash = word ^ backslashes
            // Some byte below 0x20 (exact for a bound up to 0x80), or some byte equal to the quote
            // or the backslash, which the exclusive or made zero. With no such byte nothing
            // borrows across bytes, so there is no false alarm.
            let control = (word &- ones &* 0x20) & ~word & highs
            let equal = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash) & highs
            let found = control | equal
            if found != 0 { return true }
            offset += 8
        }
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte < 0x20 || byte == 0x22 || byte == 0x5C { return true }
            offset += 1
        }
        return false
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        // Native strings are contiguous UTF-8: scanned and copied as one buffer (the recorder writes
        // every payload through here); bridged or shared ones go byte by byte.
        let copied: Bool? = s.utf8.withContiguousStorageIfAvailable { bytes in
            guard !needsEscaping(bytes) else { return false }
            out.append(UInt8(ascii: "\""))
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
/// The caller keeps the canonical rules the pieces cannot: object keys in ``CanonicalKeyOrder``,
/// each once, and separators where they belong.
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
