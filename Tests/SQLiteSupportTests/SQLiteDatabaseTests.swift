import Foundation
import Testing

@testable import SQLiteSupport

/// A failure of the test's own transaction body, to tell it from SQLite's.
private struct BodyFailure: Error {}

@Suite("SQLiteDatabase (real files)")
final class SQLiteDatabaseTests {
    /// A fresh directory per test, removed afterwards.
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// A database file in the test's directory.
    func temporaryDatabasePath() -> String { directory.appendingPathComponent("test.sqlite").path }

    @Test func everyValueTypeRoundTrips() throws {
        let db = try SQLiteDatabase(path: temporaryDatabasePath())
        try db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v)")
        let values: [SQLiteValue] = [
            .null, .integer(Int64.min), .integer(Int64.max), .real(-2.5), .text(""), .text("é\u{0}中 🚀"),
            .blob([]), .blob([0, 1, 254, 255]),
        ]
        for (id, value) in values.enumerated() {
            try db.query("INSERT INTO t VALUES (?, ?)", [.integer(Int64(id)), value])
        }
        let read = try db.rows("SELECT v FROM t ORDER BY id").map { $0.first }
        #expect(read == values)
        // A zero-length blob stays a blob rather than becoming NULL.
        #expect(try db.rows("SELECT typeof(v) FROM t WHERE id = 6") == [[.text("blob")]])
        var blob: [UInt8] = []
        var isNull = false
        try db.query("SELECT v, NULL FROM t WHERE id = ?", [.integer(7)]) { row in
            blob = row.blob(0)
            isNull = row.isNull(1)
        }
        #expect(blob == [0, 1, 254, 255])
        #expect(isNull)
    }

    @Test func writeAheadLogAndSynchronousAreApplied() throws {
        let db = try SQLiteDatabase(
            path: temporaryDatabasePath(), configuration: .init(writeAheadLog: true, synchronous: .full))
        #expect(try db.rows("PRAGMA journal_mode") == [[.text("wal")]])
        #expect(try db.rows("PRAGMA synchronous") == [[.integer(2)]])
    }

    @Test func aFailingTransactionBodyRollsEverythingBack() throws {
        let db = try SQLiteDatabase<any Error>(path: temporaryDatabasePath(), mapError: { $0 })
        try db.execute("CREATE TABLE t(x INTEGER NOT NULL)")
        try db.query("INSERT INTO t VALUES (1)")
        #expect(throws: BodyFailure.self) {
            try db.transaction(stage: "add two") { () throws(any Error) in
                try db.query("INSERT INTO t VALUES (2)")
                throw BodyFailure()
            }
        }
        // A SQLite failure inside the body also rolls back, and names the body's stage.
        let error = #expect(throws: SQLiteError.self) {
            try db.transaction(stage: "add three") { () throws(any Error) in
                try db.query("INSERT INTO t VALUES (3)")
                try db.query("INSERT INTO t VALUES (NULL)", stage: "insert null")
            }
        }
        #expect(error?.condition == .constraint)
        #expect(error?.stage == "insert null")
        #expect(try db.rows("SELECT x FROM t ORDER BY x") == [[.integer(1)]])
        // The connection is usable afterwards: no transaction was left open.
        let committed = try db.transaction { () throws(any Error) -> Int in
            try db.query("INSERT INTO t VALUES (4)")
            return 4
        }
        #expect(committed == 4)
        #expect(try db.rows("SELECT x FROM t ORDER BY x") == [[.integer(1)], [.integer(4)]])
    }

    @Test func aReadOnlyConnectionRefusesWrites() throws {
        let path = temporaryDatabasePath()
        do {
            let db = try SQLiteDatabase(path: path, configuration: .init(writeAheadLog: true))
            try db.execute("CREATE TABLE t(x)")
            try db.query("INSERT INTO t VALUES (?)", [.integer(1)])
        }
        let readOnly = try SQLiteDatabase(path: path, configuration: .init(readOnly: true))
        #expect(try readOnly.rows("SELECT x FROM t") == [[.integer(1)]])
        let error = #expect(throws: SQLiteError.self) {
            try readOnly.query("INSERT INTO t VALUES (?)", [.integer(2)], stage: "add a row")
        }
        #expect(error?.condition == .readOnly)
        #expect(error?.stage == "add a row")
        #expect(error?.description.contains(path) == true)
        // Read-only never creates a file.
        let missing = path + ".missing"
        let openError = #expect(throws: SQLiteError.self) {
            try SQLiteDatabase(path: missing, configuration: .init(readOnly: true))
        }
        #expect(openError?.phase == .open)
        #expect(openError?.condition == .cannotOpen)
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test func errorsNameTheStageOrTheStatement() throws {
        let db = try SQLiteDatabase(path: temporaryDatabasePath())
        let prepare = #expect(throws: SQLiteError.self) { try db.query("SELECT * FROM nowhere", stage: "list things") }
        #expect(prepare?.stage == "list things: prepare")
        #expect(prepare?.message.contains("no such table: nowhere") == true)
        let unnamed = #expect(throws: SQLiteError.self) { try db.rows("SELECT a, b FROM nowhere WHERE 1") }
        #expect(unnamed?.stage == "SELECT a, b")
        let bind = #expect(throws: SQLiteError.self) {
            try db.query("SELECT ?", [.integer(1), .integer(2)], stage: "too many values")
        }
        #expect(bind?.stage == "too many values: bind")
    }

    @Test func statementsBeyondTheCacheAndNestedQueriesStillWork() throws {
        let db = try SQLiteDatabase(path: temporaryDatabasePath(), configuration: .init(statementCacheCapacity: 1))
        try db.execute("CREATE TABLE t(x INTEGER)")
        for i in 0..<5 { try db.query("INSERT INTO t VALUES (\(i))") }
        var pairs = 0
        try db.query("SELECT x FROM t") { (outer) throws(SQLiteError) in
            // The same SQL again while the outer query is on a row gets its own statement.
            try db.query("SELECT x FROM t WHERE x >= ?", [.integer(outer.int64(0))]) { _ in pairs += 1 }
        }
        #expect(pairs == 15)
    }
}
