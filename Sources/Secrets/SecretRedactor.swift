import AirlockCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Replaces every known secret value, and its common encodings, with `[secret:NAME]`.
///
/// Knows each value as is, in base64 (standard and URL-safe, with and without padding), in hex
/// (lower and upper case), percent-encoded, and JSON-escaped (minimal, as `json.dumps(...,
/// ensure_ascii=False)` writes it, and ASCII-only with `\u` escapes in either case, as
/// `json.dumps` writes it by default). Longer forms are replaced first, so a value that contains
/// another is not half-replaced. Values can be added while a run goes on (a token minted for a
/// call is added before the tool starts). Safe to share between tasks.
///
/// Text that is cut must be redacted before the cut (``redactedPrefix(_:maxBytes:cut:)``): a
/// secret straddling the cut would otherwise keep its first part.
public final class SecretRedactor: Sendable {
    /// Every form of every secret, indexed for one pass over a text's bytes.
    private struct Index: Sendable {
        /// The forms' bytes and the secret each belongs to.
        var forms: [(bytes: [UInt8], name: String)] = []
        /// The longest form's length in bytes.
        var longest = 0
        /// Form indices by their first two bytes, longest form first.
        var byPrefix: [UInt16: [Int]] = [:]
        /// One bit per two-byte prefix that starts some form: most positions are rejected here.
        var prefixBits = [UInt64](repeating: 0, count: 1024)

        mutating func insert(_ form: [UInt8], name: String) {
            guard form.count >= 2 else { return }
            let key = UInt16(form[0]) << 8 | UInt16(form[1])
            forms.append((form, name))
            longest = max(longest, form.count)
            byPrefix[key, default: []].append(forms.count - 1)
            byPrefix[key]?.sort { forms[$0].bytes.count > forms[$1].bytes.count }
            prefixBits[Int(key >> 6)] |= 1 << UInt64(key & 63)
        }
    }

    private let index = Mutex(Index())

    /// The shortest value the redactor accepts; shorter values are ignored (the store refuses
    /// them at `set`). Default ``SecretStore/defaultMinimumValueBytes``.
    public let minimumBytes: Int

    /// A redactor that knows `values` (name → value).
    /// - Parameters:
    ///   - values: the secrets by name.
    ///   - minimumBytes: values shorter than this are not added (default 6 bytes).
    public init(values: [String: [UInt8]] = [:], minimumBytes: Int = SecretStore.defaultMinimumValueBytes) {
        self.minimumBytes = minimumBytes
        for (name, value) in values.sorted(by: { $0.key < $1.key }) { add(name: name, value: value) }
    }

    /// Every form of `value` the redactor looks for.
    public static func encodings(of value: [UInt8]) -> [String] {
        var forms: [String] = []
        if let plain = String(validating: value, as: UTF8.self) {
            forms.append(plain)
            let unreserved = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
            if let percent = plain.addingPercentEncoding(withAllowedCharacters: unreserved) { forms.append(percent) }
            if let every = plain.addingPercentEncoding(withAllowedCharacters: .alphanumerics) { forms.append(every) }
            if let query = plain.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) { forms.append(query) }
            forms.append(plain.replacingOccurrences(of: " ", with: "+"))
            forms.append(Self.jsonEscaped(plain, asciiOnly: false))
            forms.append(Self.jsonEscaped(plain, asciiOnly: true))
            forms.append(Self.jsonEscaped(plain, asciiOnly: true, uppercaseHex: true))
        }
        let base64 = Data(value).base64EncodedString()
        let url = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        for form in [base64, url] {
            forms.append(form)
            forms.append(String(form.reversed().drop(while: { $0 == "=" }).reversed()))
        }
        let hex = value.map { String(format: "%02x", $0) }.joined()
        forms.append(hex)
        forms.append(hex.uppercased())
        var seen: Set<String> = []
        return forms.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// `text` as a JSON string's content (no quotes): `"`, `\\` and controls escaped, and with
    /// `asciiOnly` every scalar outside printable ASCII as `\uXXXX` (UTF-16 surrogate pairs above
    /// the BMP) — Python's `json.dumps` with `ensure_ascii` true and false.
    static func jsonEscaped(_ text: String, asciiOnly: Bool, uppercaseHex: Bool = false) -> String {
        var out = ""
        func unit(_ value: UInt16) {
            let hex = String(value, radix: 16, uppercase: uppercaseHex)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || (asciiOnly && scalar.value > 0x7E) {
                    for value in String(scalar).utf16 { unit(value) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// The longest form the redactor looks for, in bytes (0 when it knows none): how far past a
    /// cut a secret that starts before it can reach.
    public var longestFormBytes: Int { index.withLock { $0.longest } }

    /// Adds a secret (or a token standing for it) under `name`.
    public func add(name: String, value: [UInt8]) {
        guard value.count >= minimumBytes else { return }
        let forms = Self.encodings(of: value)
        index.withLock { index in
            for form in forms where !index.forms.contains(where: { $0.bytes == Array(form.utf8) }) {
                index.insert(Array(form.utf8), name: name)
            }
        }
    }

    /// Adds a secret given as text.
    public func add(name: String, value: String) { add(name: name, value: Array(value.utf8)) }

    /// Whether the redactor knows any value at all.
    public var isEmpty: Bool { index.withLock { $0.forms.isEmpty } }

    /// `text` with every known form replaced, and how many replacements each secret got.
    ///
    /// One pass over the UTF-8 bytes: at each position a two-byte prefix table rejects most
    /// positions at once; otherwise the longest form starting there wins. Replacements are not
    /// scanned again.
    public func redact(_ text: String) -> (text: String, counts: [String: Int]) {
        let index = self.index.withLock { $0 }
        guard !index.forms.isEmpty else { return (text, [:]) }
        var counts: [String: Int] = [:]
        var output: [UInt8] = []
        var text = text
        let found: Bool = text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return false }
            var position = 0
            var copied = 0
            while position + 1 < bytes.count {
                let key = UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
                if index.prefixBits[Int(key >> 6)] & (1 << UInt64(key & 63)) != 0,
                    let match = index.byPrefix[key]?.first(where: { candidate in
                        let form = index.forms[candidate].bytes
                        return position + form.count <= bytes.count
                            && memcmp(base + position, form, form.count) == 0
                    })
                {
                    let (form, name) = index.forms[match]
                    if output.isEmpty { output.reserveCapacity(bytes.count) }
                    output.append(contentsOf: bytes[copied..<position])
                    output.append(contentsOf: Array("[secret:\(name)]".utf8))
                    counts[name, default: 0] += 1
                    position += form.count
                    copied = position
                    continue
                }
                position += 1
            }
            guard copied > 0 else { return false }
            output.append(contentsOf: bytes[copied...])
            return true
        }
        return found ? (String(decoding: output, as: UTF8.self), counts) : (text, [:])
    }

    /// How many `[secret:NAME]` markers `text` holds, by name: what a redacted text says was
    /// removed from it, the same whether it was redacted now or read back from a trace.
    public static func markers(in text: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        var text = text
        // Scanned as UTF-8 bytes (every tool result of every step comes here): `[secret:` and
        // `]` are ASCII, so a byte match is a character match.
        text.withUTF8 { bytes in
            let prefix = markerPrefix
            var at = 0
            while let open = bytes[at...].firstIndex(of: UInt8(ascii: "[")) {
                at = open + 1
                guard open + prefix.count <= bytes.count,
                    bytes[open..<open + prefix.count].elementsEqual(prefix)
                else { continue }
                let start = open + prefix.count
                guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "]")) else { break }
                let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                at = start
                if SecretStore.isValidName(name) {
                    counts[name, default: 0] += 1
                    at = end + 1
                }
            }
        }
        return counts
    }

    private static let markerPrefix = Array("[secret:".utf8)

    /// `text` with every known form replaced: the trace's redaction hook.
    ///
    /// Text with backslashes is also read with its JSON escapes undone, because whoever wrote it
    /// chose them: a model can spell a secret `\u0073ecret` in its raw argument text, and a tool
    /// can print it escaped in any way its JSON library likes. When that reading holds a secret
    /// the plain one does not, the text is replaced by its redacted reading: as canonical JSON
    /// when it is a JSON document (so it stays one), else the unescaped text.
    public func redacted(_ text: String) -> String {
        let plain = redact(text).text
        guard plain.utf8.contains(0x5C) else { return plain }
        let decoded = Self.unescapingJSON(plain)
        guard decoded != plain else { return plain }
        let (reading, counts) = redact(decoded)
        guard !counts.isEmpty else { return plain }
        if let document = try? JSONParser().parse(plain) { return redacted(document).canonicalString }
        return reading
    }

    /// `value` with every string (keys too) redacted.
    public func redacted(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let s): return .string(redacted(s))
        case .array(let items): return .array(items.map { redacted($0) })
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (key, member) in members { out[redacted(key)] = redacted(member) }
            return .object(out)
        default: return value
        }
    }

    /// `text` with every JSON string escape undone wherever it appears (`\"`, `\\`, `\/`, `\b`,
    /// `\f`, `\n`, `\r`, `\t`, `\uXXXX` with surrogate pairs); anything else kept as it is.
    static func unescapingJSON(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= scalars.count else { return nil }
            var value: UInt32 = 0
            for s in scalars[at..<at + 4] {
                guard let digit = Int(String(s), radix: 16) else { return nil }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while i < scalars.count {
            let s = scalars[i]
            guard s == "\\", i + 1 < scalars.count else {
                out.append(s)
                i += 1
                continue
            }
            let next = scalars[i + 1]
            let simple: [Unicode.Scalar: Unicode.Scalar] = [
                "\"": "\"", "\\": "\\", "/": "/", "b": "\u{08}", "f": "\u{0C}", "n": "\n", "r": "\r", "t": "\t",
            ]
            if let mapped = simple[next] {
                out.append(mapped)
                i += 2
            } else if next == "u", let unit = hex4(i + 2) {
                if (0xD800...0xDBFF).contains(unit), i + 7 < scalars.count, scalars[i + 6] == "\\",
                    scalars[i + 7] == "u", let low = hex4(i + 8), (0xDC00...0xDFFF).contains(low),
                    let pair = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                {
                    out.append(pair)
                    i += 12
                } else if let scalar = Unicode.Scalar(unit) {
                    out.append(scalar)
                    i += 6
                } else {
                    out.append(s)
                    i += 1
                }
            } else {
                out.append(s)
                i += 1
            }
        }
        return String(out)
    }

    /// The kept part of a text that is cut to `maxBytes`, redacted before the cut.
    ///
    /// The whole text is redacted first, then cut on a character boundary that does not split a
    /// `[secret:NAME]` marker. When the text ends at a cut (`cut`, or this cut), a tail that is
    /// the start of some form (two bytes or more) is masked too: the rest of that secret was
    /// dropped, and its first part must not be kept.
    /// - Parameters:
    ///   - text: the text as captured.
    ///   - maxBytes: the most UTF-8 bytes kept.
    ///   - cut: whether `text` itself already ends at a cut (a capture cap).
    /// - Returns: the redacted kept text, and whether anything was dropped.
    public func redactedPrefix(_ text: String, maxBytes: Int, cut: Bool = false) -> (text: String, truncated: Bool) {
        let whole = redacted(text)
        var kept = whole
        var truncated = cut
        if whole.utf8.count > maxBytes {
            kept = Self.prefix(whole, bytes: maxBytes)
            truncated = true
            let end = kept.utf8.count
            if let marker = Self.markerRanges(in: whole).first(where: { $0.contains(end) && $0.lowerBound < end }) {
                kept = String(decoding: whole.utf8.prefix(marker.lowerBound), as: UTF8.self)
            }
        }
        guard truncated else { return (kept, false) }
        return (maskingPartialTail(kept), true)
    }

    /// The last `maxBytes` of a text, redacted before the cut (a stream's tail, such as the
    /// stderr a failed tool's caller is shown): redacted whole (with a cut end's partial form
    /// masked), then cut on a character boundary that does not split a marker.
    /// - Parameters:
    ///   - text: the text as captured.
    ///   - maxBytes: the most UTF-8 bytes kept.
    ///   - cut: whether `text` itself already ends at a cut (a capture cap).
    public func redactedSuffix(_ text: String, maxBytes: Int, cut: Bool = false) -> String {
        var whole = redacted(text)
        if cut { whole = maskingPartialTail(whole) }
        guard whole.utf8.count > maxBytes else { return whole }
        var start = whole.endIndex
        var count = 0
        while start > whole.startIndex {
            let previous = whole.index(before: start)
            let size = whole[previous].utf8.count
            if count + size > maxBytes { break }
            count += size
            start = previous
        }
        let offset = whole.utf8.count - count
        if let marker = Self.markerRanges(in: whole).first(where: { $0.contains(offset) && $0.lowerBound < offset }) {
            return String(decoding: whole.utf8.dropFirst(marker.upperBound), as: UTF8.self)
        }
        return String(whole[start...])
    }

    /// The byte ranges of the `[secret:NAME]` markers in `text`.
    static func markerRanges(in text: String) -> [Range<Int>] {
        let bytes = Array(text.utf8)
        let open = Array("[secret:".utf8)
        var ranges: [Range<Int>] = []
        var i = 0
        while i + open.count < bytes.count {
            guard bytes[i] == open[0], bytes[i..<i + open.count].elementsEqual(open),
                let close = bytes[(i + open.count)...].firstIndex(of: 0x5D)
            else {
                i += 1
                continue
            }
            ranges.append(i..<close + 1)
            i = close + 1
        }
        return ranges
    }

    /// `text` with its longest tail of two bytes or more that is a proper prefix of a known form
    /// replaced by that form's marker.
    private func maskingPartialTail(_ text: String) -> String {
        let index = self.index.withLock { $0 }
        let bytes = Array(text.utf8)
        let longest = min(index.longest - 1, bytes.count)
        guard longest >= 2 else { return text }
        for length in stride(from: longest, through: 2, by: -1) {
            let tail = bytes[(bytes.count - length)...]
            let key = UInt16(tail[tail.startIndex]) << 8 | UInt16(tail[tail.startIndex + 1])
            guard let candidates = index.byPrefix[key] else { continue }
            for candidate in candidates {
                let form = index.forms[candidate]
                guard form.bytes.count > length, form.bytes[..<length].elementsEqual(tail) else { continue }
                // The cut may fall inside a character: keep whole characters only.
                let head = String(decoding: bytes[..<(bytes.count - length)], as: UTF8.self)
                return head + "[secret:\(form.name)]"
            }
        }
        return text
    }

    /// The longest prefix of `text` of at most `bytes` UTF-8 bytes that ends on a character boundary.
    public static func prefix(_ text: String, bytes: Int) -> String {
        var count = 0
        var end = text.startIndex
        for index in text.indices {
            let size = text[index].utf8.count
            if count + size > bytes { break }
            count += size
            end = text.index(after: index)
        }
        return String(text[..<end])
    }
}
