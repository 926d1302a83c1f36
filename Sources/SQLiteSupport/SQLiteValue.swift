/// A value bound to a statement parameter or read from a result column.
public enum SQLiteValue: Sendable, Hashable {
    /// SQL `NULL`.
    case null
    /// A 64-bit signed integer.
    case integer(Int64)
    /// A double-precision floating point number.
    case real(Double)
    /// UTF-8 text.
    case text(String)
    /// Bytes; an empty array is stored as a zero-length blob, not as `NULL`.
    case blob([UInt8])

    /// The text, when this is `.text`.
    public var text: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    /// The integer, when this is `.integer`.
    public var integer: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }

    /// The bytes, when this is `.blob`.
    public var blob: [UInt8]? {
        if case .blob(let bytes) = self { return bytes }
        return nil
    }
}
