import SQLiteSupport

/// The registry's connection: every SQLite failure arrives as a ``ToolsError`` (`registry`).
typealias RegistryDatabase = SQLiteDatabase<ToolsError>

extension ToolsError {
    /// The registry's error for a SQLite failure, naming the database file and the statement
    /// (or stage) that failed, with SQLite's message.
    init(registry error: SQLiteError) {
        switch error.phase {
        case .open: self.init(.registry, "registry: cannot open \(error.path): \(error.message)")
        case .statement: self.init(.registry, "registry (\(error.path)): \(error.stage): \(error.message)")
        }
    }
}
