import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Replaces every known secret value, and its common encodings, with `[secret:NAME]`.
///
/// Knows each value as is, in base64 (standard and URL-safe, with and without padding), in hex
/// (lower and upper case) and percent-encoded. Longer forms are replaced first, so a value that
/// contains another is not half-replaced. Values can be added while a run goes on (a token
/// minted for a call is added before the tool starts). Safe to share between tasks.
public final class SecretRedactor: Sendable {
    /// Every form of every secret, indexed for one pass over a text's bytes.
    private struct Index: Sendable {
        /// The forms' bytes and the secret each belongs to.
        var forms: [(bytes: [UInt8], name: String)] = []
        /// Form indices by their first two bytes, longest form first.
        var byPrefix: [UInt16: [Int]] = [:]
        /// One bit per two-byte prefix that starts some form: most positions are rejected here.
        var prefixBits = [UInt64](repeating: 0, count: 1024)

        mutating func insert(_ form: [UInt8], name: String) {
            guard form.count >= 2 else { return }
            let key = UInt16(form[0]) << 8 | UInt16(form[1])
            forms.append((form, name))
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
        var rest = Substring(text)
        while let start = rest.range(of: "[secret:") {
            rest = rest[start.upperBound...]
            guard let end = rest.firstIndex(of: "]") else { break }
            let name = String(rest[..<end])
            if SecretStore.isValidName(name) {
                counts[name, default: 0] += 1
                rest = rest[rest.index(after: end)...]
            }
        }
        return counts
    }

    /// `text` with every known form replaced: the trace's redaction hook.
    public func redacted(_ text: String) -> String { redact(text).text }
}
