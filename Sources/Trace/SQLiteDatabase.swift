import CSQLite

/// One SQLite connection with cached prepared statements, WAL and durable commits.
///
/// `synchronous=FULL` in WAL mode fsyncs the write-ahead log at every commit, so a committed
/// transaction survives a crash or power loss; `NORMAL` would only be durable at the next WAL
/// checkpoint. Not thread-safe: ``TraceStore`` serialises all access behind a mutex.
final class SQLiteDatabase {
    /// The file path, for error messages.
    let path: String
    private var handle: OpaquePointer?
    private var cache: [String: SQLiteStatement] = [:]

    /// Opens (or creates) the database.
    /// - Parameters:
    ///   - path: the database file.
    ///   - readOnly: open without write access.
    ///   - busyTimeoutMilliseconds: how long to wait for another writer's lock.
    init(path: String, readOnly: Bool, busyTimeoutMilliseconds: Int32) throws(TraceError) {
        self.path = path
        let flags =
            (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        handle = db
        guard rc == SQLITE_OK else {
            let cause = db.map { String(cString: sqlite3_errmsg($0)) } ?? "code \(rc)"
            sqlite3_close_v2(db)
            handle = nil
            throw TraceError(Self.code(for: rc), "open trace database \(path)", cause: cause)
        }
        sqlite3_extended_result_codes(db, 0)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    }

    deinit {
        for statement in cache.values { statement.finalize() }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more SQL statements without results.
    func execute(_ sql: String, stage: String) throws(TraceError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let cause = message.map { String(cString: $0) } ?? "code \(rc)"
            sqlite3_free(message)
            throw TraceError(Self.code(for: rc), "\(stage) (\(path))", cause: cause)
        }
    }

    /// Runs one statement with `bindings`, calling `row` for every result row.
    ///
    /// The statement is prepared once and cached; it is reset afterwards so that no read
    /// transaction stays open.
    func query(
        _ sql: String, _ bindings: [SQLiteValue] = [], stage: String,
        row: (SQLiteStatement) throws(TraceError) -> Void = { _ in }
    ) throws(TraceError) {
        let statement = try prepared(sql, stage: stage)
        defer { statement.reset() }
        for (index, value) in bindings.enumerated() { statement.bind(value, at: Int32(index + 1)) }
        while true {
            let rc = statement.step()
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw error(rc, stage: stage) }
            try row(statement)
        }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws.
    func transaction<T>(stage: String, _ body: () throws(TraceError) -> T) throws(TraceError) -> T {
        try execute("BEGIN IMMEDIATE", stage: "\(stage): begin")
        do {
            let result = try body()
            try execute("COMMIT", stage: "\(stage): commit")
            return result
        } catch {
            try? execute("ROLLBACK", stage: "\(stage): rollback")
            throw error
        }
    }

    /// The error for result code `rc`, with SQLite's own message.
    func error(_ rc: Int32, stage: String) -> TraceError {
        TraceError(Self.code(for: rc), "\(stage) (\(path))", cause: String(cString: sqlite3_errmsg(handle)))
    }

    private func prepared(_ sql: String, stage: String) throws(TraceError) -> SQLiteStatement {
        if let cached = cache[sql] { return cached }
        var pointer: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &pointer, nil)
        guard rc == SQLITE_OK, let pointer else { throw error(rc, stage: "\(stage): prepare") }
        let statement = SQLiteStatement(pointer)
        cache[sql] = statement
        return statement
    }

    private static func code(for rc: Int32) -> TraceError.Code {
        switch rc & 0xFF {
        case SQLITE_FULL: .storageFull
        case SQLITE_READONLY: .readOnly
        case SQLITE_CORRUPT, SQLITE_NOTADB: .corrupt
        default: .storage
        }
    }
}

/// A value bound to a statement parameter.
enum SQLiteValue {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    case null
}
