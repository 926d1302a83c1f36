extension JSONValue {
    /// Any `Encodable` value as JSON (through ``JSONValueEncoder``), or `nil` when it does not
    /// encode (a non-finite number). For records such as the sandbox's execution record that
    /// modules hand to the trace as a `JSONValue`.
    /// - Parameter value: the value to encode.
    /// - Returns: the JSON, or `nil` when encoding failed.
    public static func encoding<T: Encodable>(_ value: T) -> JSONValue? {
        try? JSONValueEncoder().encode(value)
    }
}
