import Foundation
import Synchronization

/// Replaces every known secret value, and its common encodings, with `[secret:NAME]`.
///
/// Knows each value as is, in base64 (standard and URL-safe, with and without padding), in hex
/// (lower and upper case) and percent-encoded. Longer forms are replaced first, so a value that
/// contains another is not half-replaced. Values can be added while a run goes on (a token
/// minted for a call is added before the tool starts). Safe to share between tasks.
public final class SecretRedactor: Sendable {
    /// One form of one secret.
    private struct Pattern {
        var text: String
        var name: String
    }

    private let patterns = Mutex<[Pattern]>([])

    /// The shortest form the redactor accepts; shorter values are ignored (the store refuses
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
        let added = Self.encodings(of: value).map { Pattern(text: $0, name: name) }
        patterns.withLock { list in
            list.append(contentsOf: added)
            list.sort { $0.text.utf8.count > $1.text.utf8.count }
        }
    }

    /// Adds a secret given as text.
    public func add(name: String, value: String) { add(name: name, value: Array(value.utf8)) }

    /// Whether the redactor knows any value at all.
    public var isEmpty: Bool { patterns.withLock { $0.isEmpty } }

    /// `text` with every known form replaced, and how many replacements each secret got.
    public func redact(_ text: String) -> (text: String, counts: [String: Int]) {
        let list = patterns.withLock { $0 }
        var result = text
        var counts: [String: Int] = [:]
        for pattern in list where result.contains(pattern.text) {
            let pieces = result.components(separatedBy: pattern.text)
            counts[pattern.name, default: 0] += pieces.count - 1
            result = pieces.joined(separator: "[secret:\(pattern.name)]")
        }
        return (result, counts)
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
    public func redacted(_ text: String) -> String {
        if isEmpty { return text }
        return redact(text).text
    }
}
