import CSQLite

/// A prepared statement owned by ``SQLiteDatabase``'s cache.
final class SQLiteStatement {
    private let pointer: OpaquePointer
    // SQLite copies the bytes before `bind` returns (SQLITE_TRANSIENT).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    func finalize() { sqlite3_finalize(pointer) }

    func reset() {
        sqlite3_reset(pointer)
        sqlite3_clear_bindings(pointer)
    }

    func step() -> Int32 { sqlite3_step(pointer) }

    func bind(_ value: SQLiteValue, at index: Int32) {
        switch value {
        case .integer(let i): sqlite3_bind_int64(pointer, index, i)
        case .text(let s): sqlite3_bind_text(pointer, index, s, -1, Self.transient)
        case .blob(let bytes):
            _ = bytes.withUnsafeBytes { buffer in
                // A zero-length blob must still be a blob, not NULL.
                if buffer.count == 0 {
                    sqlite3_bind_zeroblob(pointer, index, 0)
                } else {
                    sqlite3_bind_blob(pointer, index, buffer.baseAddress, Int32(buffer.count), Self.transient)
                }
            }
        case .null: sqlite3_bind_null(pointer, index)
        }
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(pointer, column) }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(pointer, column) == SQLITE_NULL }

    func text(_ column: Int32) -> String? {
        guard let raw = sqlite3_column_text(pointer, column) else { return nil }
        return String(cString: raw)
    }

    func blob(_ column: Int32) -> [UInt8] {
        // The documented order: fetch the pointer first, then its length.
        let raw = sqlite3_column_blob(pointer, column)
        let count = Int(sqlite3_column_bytes(pointer, column))
        guard count > 0, let raw else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: count))
    }
}
