import CSQLite

/// Why SQLite could not do what it was asked: the result code, SQLite's own message, the stage
/// that failed and the database file.
///
/// Callers map it into their module's error type (see ``SQLiteDatabase/init(path:configuration:mapError:)``).
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where in a connection's life the failure happened.
    public enum Phase: Sendable, Hashable {
        /// Opening the file (`sqlite3_open_v2`).
        case open
        /// Configuring the connection or running SQL (prepare, bind, step, exec).
        case statement
    }

    /// The failures a caller usually tells apart, derived from ``resultCode``.
    public enum Condition: Sendable, Hashable {
        /// The disk, or the connection's `max_page_count`, is full (`SQLITE_FULL`).
        case full
        /// The database or the connection is read-only (`SQLITE_READONLY`).
        case readOnly
        /// The file is damaged or not a database (`SQLITE_CORRUPT`, `SQLITE_NOTADB`).
        case corrupt
        /// Another connection held a lock past the busy timeout (`SQLITE_BUSY`, `SQLITE_LOCKED`).
        case busy
        /// A constraint or trigger refused the change (`SQLITE_CONSTRAINT`).
        case constraint
        /// The file could not be opened (`SQLITE_CANTOPEN`).
        case cannotOpen
        /// Anything else; see ``resultCode``.
        case other
    }

    /// The primary SQLite result code (`SQLITE_FULL` is 13).
    public var resultCode: Int32
    /// SQLite's message for the failure (`sqlite3_errmsg`).
    public var message: String
    /// What was being done: the caller's stage with the step that failed (`append to run r1: begin`),
    /// or, when the caller named no stage, the first words of the SQL (`SELECT version, revision`).
    public var stage: String
    /// Where in the connection's life it happened.
    public var phase: Phase
    /// The database file.
    public var path: String

    /// Creates an error.
    /// - Parameters:
    ///   - resultCode: the SQLite result code; extended codes are reduced to their primary code.
    ///   - message: SQLite's message.
    ///   - stage: what was being done.
    ///   - phase: opening or running SQL (default `.statement`).
    ///   - path: the database file.
    public init(resultCode: Int32, message: String, stage: String, phase: Phase = .statement, path: String) {
        self.resultCode = resultCode & 0xFF
        self.message = message
        self.stage = stage
        self.phase = phase
        self.path = path
    }

    /// The kind of failure, for callers that map it to their own codes.
    public var condition: Condition {
        switch resultCode {
        case SQLITE_FULL: .full
        case SQLITE_READONLY: .readOnly
        case SQLITE_CORRUPT, SQLITE_NOTADB: .corrupt
        case SQLITE_BUSY, SQLITE_LOCKED: .busy
        case SQLITE_CONSTRAINT: .constraint
        case SQLITE_CANTOPEN: .cannotOpen
        default: .other
        }
    }

    /// `stage (path): message`.
    public var description: String { "\(stage) (\(path)): \(message)" }
}
