import Foundation

extension JSONValue {
    /// Any `Encodable` value as JSON (through `JSONEncoder`, then the strict parser), or `nil`
    /// when it does not encode. For records such as the sandbox's execution record that modules
    /// hand to the trace as a `JSONValue`.
    /// - Parameter value: the value to encode.
    /// - Returns: the JSON, or `nil` when encoding failed.
    public static func encoding<T: Encodable>(_ value: T) -> JSONValue? {
        guard let data = try? JSONEncoder().encode(value) else { return nil }
        return try? JSONParser().parse(Array(data))
    }
}
