import Foundation
import Trace

/// Where a trace lives, as `--database`, `--from`/`--to` and `site.yaml`'s `trace:` name it:
/// `sqlite:PATH` or a bare path (the embedded file), or `postgres://…` (``PostgresURL``).
public enum TraceLocation: Sendable, Hashable, CustomStringConvertible {
    /// A SQLite file.
    case sqlite(String)
    /// A PostgreSQL database.
    case postgres(PostgresURL)

    /// Parses a location.
    /// - Throws: ``TraceError`` `storage` for a malformed URL or an unknown scheme.
    public init(_ text: String) throws(TraceError) {
        if PostgresURL.isPostgres(text) {
            self = .postgres(try PostgresURL(text))
        } else if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw TraceError(.storage, "'\(text)': no path after sqlite:") }
            self = .sqlite(path)
        } else if let colon = text.firstIndex(of: ":"), text[..<colon].allSatisfy(\.isLetter), text[..<colon].count > 1,
            !text.hasPrefix("/")
        {
            throw TraceError(
                .storage, "'\(text)': unknown database scheme '\(text[..<colon])' (sqlite:PATH or postgres://…)")
        } else {
            guard !text.isEmpty else { throw TraceError(.storage, "empty database location") }
            self = .sqlite(text)
        }
    }

    /// Whether this is a PostgreSQL database.
    public var isPostgres: Bool {
        if case .postgres = self { return true }
        return false
    }

    /// `sqlite:PATH`, or the URL without its password.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): url.description
        }
    }

    /// Opens the trace.
    /// - Parameter readOnly: for SQLite: open without write access, and refuse a missing file
    ///   (`run-not-found`) rather than create it. A PostgreSQL trace's access is its role's.
    /// - Throws: ``TraceError``.
    public func open(readOnly: Bool = false) throws(TraceError) -> TraceStore {
        switch self {
        case .sqlite(let path):
            if readOnly, !FileManager.default.fileExists(atPath: path) {
                throw TraceError(.runNotFound, "no trace database at \(path) (nothing recorded yet)")
            }
            return try TraceStore(path: path, configuration: .init(readOnly: readOnly))
        case .postgres(let url):
            return TraceStore(backend: try PostgresTraceBackend(url: url))
        }
    }
}
