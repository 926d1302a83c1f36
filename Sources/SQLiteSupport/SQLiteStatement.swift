import CSQLite

/// A prepared statement, owned by its ``SQLiteDatabase``; a query hands it to the row callback
/// positioned on the current row.
///
/// Column indexes start at 0. Read a row only inside the callback: the statement moves on (and is
/// reset) when the callback returns.
public final class SQLiteStatement {
    private let pointer: OpaquePointer
    /// Whether a query is stepping through this statement now; a nested query of the same SQL
    /// then prepares its own statement instead of resetting this one.
    var inUse = false
    // SQLite copies the bytes before `bind` returns (SQLITE_TRANSIENT).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    func finalize() { sqlite3_finalize(pointer) }

    /// Ends the statement's read or write and forgets its bindings, so no transaction stays open.
    func reset() {
        sqlite3_reset(pointer)
        sqlite3_clear_bindings(pointer)
    }

    func step() -> Int32 { sqlite3_step(pointer) }

    /// Binds `value` to the 1-based parameter `index`; returns the SQLite result code.
    func bind(_ value: SQLiteValue, at index: Int32) -> Int32 {
        switch value {
        case .null: return sqlite3_bind_null(pointer, index)
        case .integer(let i): return sqlite3_bind_int64(pointer, index, i)
        case .real(let d): return sqlite3_bind_double(pointer, index, d)
        case .text(let s):
            // With its byte length, so text holding NUL survives the round trip.
            return sqlite3_bind_text64(
                pointer, index, s, sqlite3_uint64(s.utf8.count), Self.transient, UInt8(SQLITE_UTF8))
        case .blob(let bytes):
            return bytes.withUnsafeBytes { buffer in
                // A zero-length blob must still be a blob, not NULL.
                guard let base = buffer.baseAddress, buffer.count > 0 else {
                    return sqlite3_bind_zeroblob(pointer, index, 0)
                }
                return sqlite3_bind_blob64(pointer, index, base, sqlite3_uint64(buffer.count), Self.transient)
            }
        }
    }

    /// The number of columns in each result row.
    public var columnCount: Int { Int(sqlite3_column_count(pointer)) }

    /// Whether `column` of the current row is `NULL`.
    /// - Parameter column: the 0-based column index.
    public func isNull(_ column: Int) -> Bool { sqlite3_column_type(pointer, Int32(clamping: column)) == SQLITE_NULL }

    /// `column` of the current row as an integer (0 for `NULL`).
    /// - Parameter column: the 0-based column index.
    public func int64(_ column: Int) -> Int64 { sqlite3_column_int64(pointer, Int32(clamping: column)) }

    /// `column` of the current row as a double (0 for `NULL`).
    /// - Parameter column: the 0-based column index.
    public func double(_ column: Int) -> Double { sqlite3_column_double(pointer, Int32(clamping: column)) }

    /// `column` of the current row as text, or `nil` for `NULL`.
    /// - Parameter column: the 0-based column index.
    public func text(_ column: Int) -> String? {
        let index = Int32(clamping: column)
        guard let raw = sqlite3_column_text(pointer, index) else { return nil }
        let count = Int(sqlite3_column_bytes(pointer, index))
        return String(decoding: UnsafeBufferPointer(start: raw, count: count), as: UTF8.self)
    }

    /// `column` of the current row as bytes (empty for `NULL` or a zero-length blob).
    /// - Parameter column: the 0-based column index.
    public func blob(_ column: Int) -> [UInt8] {
        let index = Int32(clamping: column)
        // The documented order: fetch the pointer first, then its length.
        let raw = sqlite3_column_blob(pointer, index)
        let count = Int(sqlite3_column_bytes(pointer, index))
        guard count > 0, let raw else { return [] }
        // One allocation and one copy: a trace read takes three blobs from every row.
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let base = buffer.baseAddress else { return initialized = 0 }
            base.update(from: raw.assumingMemoryBound(to: UInt8.self), count: count)
            initialized = count
        }
    }

    /// Calls `body` with `column` of the current row as SQLite holds it, without copying (empty for
    /// `NULL` or a zero-length value): for a reader that only looks at the bytes, such as a verify
    /// that hashes every row.
    ///
    /// The buffer is SQLite's own and is valid only inside `body`: it must not escape, and no
    /// other accessor may read the same column (a type conversion would free it) until `body` returns.
    /// - Parameters:
    ///   - column: the 0-based column index.
    ///   - body: reads the bytes.
    /// - Returns: what `body` returns.
    public func withBytes<T, E: Error>(_ column: Int, _ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        let index = Int32(clamping: column)
        // The documented order: fetch the pointer first, then its length.
        let raw = sqlite3_column_blob(pointer, index)
        let count = Int(sqlite3_column_bytes(pointer, index))
        guard count > 0, let raw else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: raw, count: count))
    }

    /// `column` of the current row as the value of its stored type.
    /// - Parameter column: the 0-based column index.
    public func value(_ column: Int) -> SQLiteValue {
        switch sqlite3_column_type(pointer, Int32(clamping: column)) {
        case SQLITE_NULL: .null
        case SQLITE_INTEGER: .integer(int64(column))
        case SQLITE_FLOAT: .real(double(column))
        case SQLITE_BLOB: .blob(blob(column))
        default: .text(text(column) ?? "")
        }
    }

    /// Every column of the current row.
    public func values() -> [SQLiteValue] { (0..<columnCount).map(value) }
}
