import SQLiteSupport

/// The trace's connection: every SQLite failure arrives as a ``TraceError``.
typealias TraceDatabase = SQLiteDatabase<TraceError>

extension TraceError {
    /// The trace's error for a SQLite failure: `storage-full`, `read-only`, `corrupt` or `storage`,
    /// naming the stage and the database file, with SQLite's message as the cause.
    init(_ error: SQLiteError) {
        let code: Code =
            switch error.condition {
            case .full: .storageFull
            case .readOnly: .readOnly
            case .corrupt: .corrupt
            default: .storage
            }
        switch error.phase {
        case .open: self.init(code, "open trace database \(error.path)", cause: error.message)
        case .statement: self.init(code, "\(error.stage) (\(error.path))", cause: error.message)
        }
    }
}
