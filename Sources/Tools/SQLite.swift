import AirlockCore

import CSQLite

/// A value bound to or read from a SQLite statement (the registry needs only these three).
enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)

    var text: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    var integer: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }
}

/// A small wrapper over the raw sqlite3 C API for the tool registry: open, run statements with
/// bound parameters, transactions. Every failure becomes a ``ToolsError`` naming the statement.
///
/// Not shared between threads: the registry opens one connection per operation.
final class SQLiteConnection {
    private var handle: OpaquePointer?
    private let path: String

    /// SQLITE_TRANSIENT: SQLite copies bound text before `sqlite3_bind_text` returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Opens (creating if needed) the database at `path`.
    /// - Parameter busyTimeoutMilliseconds: how long to wait for another writer's lock.
    init(path: String, busyTimeoutMilliseconds: Int32) throws(ToolsError) {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        handle = db
        guard rc == SQLITE_OK else {
            let reason = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            handle = nil
            throw ToolsError(.registry, "registry: cannot open \(path): \(reason)")
        }
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    }

    deinit { sqlite3_close(handle) }

    /// Runs one or more statements without parameters or results.
    func execute(_ sql: String) throws(ToolsError) {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
            let reason = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw ToolsError(.registry, "registry (\(path)): \(Self.firstWords(sql)): \(reason)")
        }
    }

    /// Runs one statement with `parameters` bound in order and returns every result row.
    @discardableResult
    func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws(ToolsError) -> [[SQLiteValue]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else {
            throw failure(sql)
        }
        defer { sqlite3_finalize(statement) }
        for (offset, parameter) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch parameter {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let i): rc = sqlite3_bind_int64(statement, index, i)
            case .text(let s): rc = sqlite3_bind_text(statement, index, s, -1, Self.transient)
            }
            guard rc == SQLITE_OK else { throw failure(sql) }
        }
        var rows: [[SQLiteValue]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw failure(sql) }
            var row: [SQLiteValue] = []
            for column in 0..<sqlite3_column_count(statement) {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_NULL: row.append(.null)
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
                default:
                    let text = sqlite3_column_text(statement, column).map { String(cString: $0) } ?? ""
                    row.append(.text(text))
                }
            }
            rows.append(row)
        }
        return rows
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`; any error rolls everything back.
    func transaction<T>(_ body: () throws(ToolsError) -> T) throws(ToolsError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    private func failure(_ sql: String) -> ToolsError {
        let reason = String(cString: sqlite3_errmsg(handle))
        return ToolsError(.registry, "registry (\(path)): \(Self.firstWords(sql)): \(reason)")
    }

    private static func firstWords(_ sql: String) -> String {
        sql.split(whereSeparator: \.isWhitespace).prefix(3).joined(separator: " ")
    }
}
