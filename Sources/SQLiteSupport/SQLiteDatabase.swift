import CSQLite

/// One SQLite connection: configured at open, with a bounded cache of prepared statements.
///
/// Every failure is an ``SQLiteError`` passed through the `mapError` given at open, so a caller
/// sees only its own error type (`SQLiteDatabase<TraceError>`); `SQLiteDatabase<SQLiteError>`
/// reports them as they are.
///
/// Not thread-safe (opened `SQLITE_OPEN_NOMUTEX`): one owner at a time, or behind a mutex.
public final class SQLiteDatabase<Failure: Error> {
    /// How a connection is opened and configured.
    public struct Configuration: Sendable {
        /// Durability of commits (`PRAGMA synchronous`).
        public enum Synchronous: String, Sendable {
            /// No fsync at all.
            case off = "OFF"
            /// In WAL mode, durable only at the next WAL checkpoint.
            case normal = "NORMAL"
            /// In WAL mode, the WAL is fsynced at every commit: a committed transaction survives a crash.
            case full = "FULL"
            /// `FULL`, and the directory is also synced after a rollback journal is deleted.
            case extra = "EXTRA"
        }

        /// Open without write access (default `false`); otherwise the file is created if missing.
        public var readOnly: Bool
        /// How long to wait for another connection's lock, in milliseconds (default 5000).
        public var busyTimeoutMilliseconds: Int32
        /// Switch the file to write-ahead logging (default `false`: the file's own journal mode).
        /// Ignored when read-only, which cannot change the journal mode.
        public var writeAheadLog: Bool
        /// The `synchronous` level to set (default `nil`: SQLite's compiled-in default).
        public var synchronous: Synchronous?
        /// How many prepared statements are kept for reuse (default 64); beyond it a statement is
        /// prepared for one query and finalized after it.
        public var statementCacheCapacity: Int

        /// Creates a configuration.
        /// - Parameters:
        ///   - readOnly: open without write access (default `false`).
        ///   - busyTimeoutMilliseconds: lock wait in ms (default 5000).
        ///   - writeAheadLog: enable WAL when writable (default `false`).
        ///   - synchronous: the `synchronous` level (default `nil`, SQLite's default).
        ///   - statementCacheCapacity: prepared statements kept (default 64).
        public init(
            readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 5000, writeAheadLog: Bool = false,
            synchronous: Synchronous? = nil, statementCacheCapacity: Int = 64
        ) {
            self.readOnly = readOnly
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
            self.writeAheadLog = writeAheadLog
            self.synchronous = synchronous
            self.statementCacheCapacity = statementCacheCapacity
        }
    }

    /// The database file, for error messages.
    public let path: String
    private let configuration: Configuration
    private let mapError: (SQLiteError) -> Failure
    private var handle: OpaquePointer?
    private var cache: [String: SQLiteStatement] = [:]

    /// Opens (or, when writable, creates) the database and configures the connection.
    /// - Parameters:
    ///   - path: the database file.
    ///   - configuration: access, busy timeout, journal mode, durability, cache bound.
    ///   - mapError: turns every ``SQLiteError`` into the caller's error type.
    /// - Throws: the mapped error: phase `.open` when the file cannot be opened, `.statement`
    ///   (stage `enable WAL`, `set synchronous=FULL`) when it cannot be configured.
    public init(
        path: String, configuration: Configuration = Configuration(),
        mapError: @escaping (SQLiteError) -> Failure
    ) throws(Failure) {
        self.path = path
        self.configuration = configuration
        self.mapError = mapError
        let access = configuration.readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, access | SQLITE_OPEN_NOMUTEX, nil)
        handle = db
        guard rc == SQLITE_OK else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            handle = nil
            throw mapError(SQLiteError(resultCode: rc, message: message, stage: "open", phase: .open, path: path))
        }
        sqlite3_extended_result_codes(db, 0)
        sqlite3_busy_timeout(db, configuration.busyTimeoutMilliseconds)
        if configuration.writeAheadLog && !configuration.readOnly {
            try execute("PRAGMA journal_mode=WAL", stage: "enable WAL")
        }
        if let synchronous = configuration.synchronous {
            try execute("PRAGMA synchronous=\(synchronous.rawValue)", stage: "set synchronous=\(synchronous.rawValue)")
        }
    }

    deinit {
        for statement in cache.values { statement.finalize() }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more SQL statements without bound values or results.
    /// - Parameters:
    ///   - sql: the statements, separated by `;`.
    ///   - stage: what this does, for errors (default: the first words of `sql`); built only
    ///     when there is an error, so a hot path may name its row.
    /// - Throws: the mapped ``SQLiteError``.
    public func execute(_ sql: String, stage: @autoclosure () -> String? = nil) throws(Failure) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        guard rc == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw mapError(SQLiteError(resultCode: rc, message: text, stage: stage() ?? Self.summary(sql), path: path))
        }
    }

    /// Runs one statement with `values` bound in order, calling `row` for every result row.
    ///
    /// The statement is prepared once and cached; it is reset afterwards so that no read
    /// transaction stays open.
    /// - Parameters:
    ///   - sql: one statement with `?` parameters.
    ///   - values: the parameters, in order.
    ///   - stage: what this does, for errors (default: the first words of `sql`); built only
    ///     when there is an error, so a hot path may name its row.
    ///   - row: called with the statement positioned on each result row.
    /// - Throws: the mapped ``SQLiteError``, or what `row` throws.
    public func query(
        _ sql: String, _ values: [SQLiteValue] = [], stage: @autoclosure () -> String? = nil,
        row: (SQLiteStatement) throws(Failure) -> Void = { _ in }
    ) throws(Failure) {
        let (statement, cached) = try prepared(sql, stage: stage())
        statement.inUse = true
        defer {
            statement.inUse = false
            if cached { statement.reset() } else { statement.finalize() }
        }
        for (offset, value) in values.enumerated() {
            let rc = statement.bind(value, at: Int32(offset + 1))
            guard rc == SQLITE_OK else { throw error(rc, stage: stage().map { "\($0): bind" } ?? Self.summary(sql)) }
        }
        while true {
            let rc = statement.step()
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw error(rc, stage: stage() ?? Self.summary(sql)) }
            try row(statement)
        }
    }

    /// Runs one statement with `values` bound in order and returns every result row.
    /// - Parameters:
    ///   - sql: one statement with `?` parameters.
    ///   - values: the parameters, in order.
    ///   - stage: what this does, for errors (default: the first words of `sql`); built only
    ///     when there is an error, so a hot path may name its row.
    /// - Returns: each row's columns as values of their stored types.
    /// - Throws: the mapped ``SQLiteError``.
    public func rows(_ sql: String, _ values: [SQLiteValue] = [], stage: @autoclosure () -> String? = nil)
        throws(Failure)
        -> [[SQLiteValue]]
    {
        var out: [[SQLiteValue]] = []
        try query(sql, values, stage: stage()) { statement in out.append(statement.values()) }
        return out
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling everything back if it throws.
    /// - Parameters:
    ///   - stage: what the transaction does, for errors (`stage: begin`, `stage: commit`); default:
    ///     the SQL (`BEGIN IMMEDIATE`, `COMMIT`).
    ///   - body: the work; its error is rethrown after the rollback.
    /// - Returns: what `body` returns.
    /// - Throws: the mapped ``SQLiteError`` of begin or commit, or what `body` throws.
    public func transaction<T>(stage: @autoclosure () -> String? = nil, _ body: () throws(Failure) -> T) throws(Failure)
        -> T
    {
        try execute("BEGIN IMMEDIATE", stage: stage().map { "\($0): begin" })
        do {
            let result = try body()
            try execute("COMMIT", stage: stage().map { "\($0): commit" })
            return result
        } catch {
            try? execute("ROLLBACK", stage: stage().map { "\($0): rollback" })
            throw error
        }
    }

    /// The error for result code `rc`, with SQLite's own message.
    private func error(_ rc: Int32, stage: String) -> Failure {
        mapError(
            SQLiteError(resultCode: rc, message: String(cString: sqlite3_errmsg(handle)), stage: stage, path: path))
    }

    /// A cached statement for `sql`, or (when it is in use or the cache is full) one to finalize after use.
    private func prepared(_ sql: String, stage: @autoclosure () -> String?) throws(Failure) -> (
        SQLiteStatement, cached: Bool
    ) {
        if let statement = cache[sql], !statement.inUse { return (statement, true) }
        let cacheable = cache[sql] == nil && cache.count < configuration.statementCacheCapacity
        var pointer: OpaquePointer?
        let flags = cacheable ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let rc = sqlite3_prepare_v3(handle, sql, -1, flags, &pointer, nil)
        guard rc == SQLITE_OK, let pointer else {
            throw error(rc, stage: stage().map { "\($0): prepare" } ?? Self.summary(sql))
        }
        let statement = SQLiteStatement(pointer)
        if cacheable { cache[sql] = statement }
        return (statement, cacheable)
    }

    /// The first words of `sql`, naming the statement when the caller gave no stage.
    private static func summary(_ sql: String) -> String {
        sql.split(whereSeparator: \.isWhitespace).prefix(3).joined(separator: " ")
    }
}

extension SQLiteDatabase where Failure == SQLiteError {
    /// Opens the database, reporting failures as ``SQLiteError`` unchanged.
    /// - Parameters:
    ///   - path: the database file.
    ///   - configuration: access, busy timeout, journal mode, durability, cache bound.
    /// - Throws: ``SQLiteError``.
    public convenience init(path: String, configuration: Configuration = Configuration()) throws(SQLiteError) {
        try self.init(path: path, configuration: configuration, mapError: { $0 })
    }
}
