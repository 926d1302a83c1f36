import Foundation

/// The fields of an `application/x-www-form-urlencoded` body or a query string: `+` is a space,
/// `%XX` a byte; a field given twice keeps its first value.
public struct FormFields: Sendable, Hashable {
    /// Field name → value.
    public var values: [String: String]

    /// Parses `text`.
    public init(_ text: String) {
        var values: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let name = decode(parts[0])
            if values[name] == nil { values[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        self.values = values
    }

    /// A field's value, or `nil` when absent; an empty value counts as absent.
    public subscript(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }
}
