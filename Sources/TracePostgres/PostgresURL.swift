import Foundation
import Trace

/// A PostgreSQL address as a site writes it: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`,
/// or a unix socket directory given as `host=`: `postgres://USER@/DATABASE?host=/run/postgresql&port=5432`.
/// `sslmode=disable|prefer|require` (default `disable` for a socket, `prefer` over TCP).
/// The password, when not in the URL, comes from `PGPASSWORD`.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    /// How TLS is used.
    public enum TLSMode: String, Sendable, Hashable {
        /// Never.
        case disable
        /// When the server offers it.
        case prefer
        /// Always; the connection fails without it.
        case require
    }

    /// The TCP host, or `nil` for a unix socket.
    public var host: String?
    /// The TCP port, or the socket's port number (default 5432).
    public var port: Int
    /// The socket directory, when connecting through a unix socket.
    public var socketDirectory: String?
    /// The role to log in as.
    public var user: String
    /// Its password, if any.
    public var password: String?
    /// The database name.
    public var database: String
    /// How TLS is used.
    public var tls: TLSMode

    /// The socket file (`DIR/.s.PGSQL.PORT`), when connecting through a unix socket.
    public var socketPath: String? { socketDirectory.map { "\($0)/.s.PGSQL.\(port)" } }

    /// Whether `text` names a PostgreSQL database (`postgres://` or `postgresql://`).
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses a URL.
    /// - Parameter environment: where `PGPASSWORD` is read (default: the process's).
    /// - Throws: ``TraceError`` `storage` naming the part that is wrong.
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(TraceError)
    {
        guard Self.isPostgres(text), let components = URLComponents(string: text) else {
            throw TraceError(
                .storage, "database URL '\(Self.redact(text))': expected postgres://USER@HOST[:PORT]/DATABASE")
        }
        guard let user = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw TraceError(.storage, "database URL '\(Self.redact(text))': no user (postgres://USER@HOST/DATABASE)")
        }
        let name = String(components.path.drop(while: { $0 == "/" }))
        guard !name.isEmpty, !name.contains("/") else {
            throw TraceError(.storage, "database URL '\(Self.redact(text))': no database name after the host")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard ["host", "port", "sslmode"].contains(item.name), let value = item.value else {
                throw TraceError(
                    .storage,
                    "database URL '\(Self.redact(text))': unknown parameter '\(item.name)' (host, port, sslmode)")
            }
            query[item.name] = value
        }
        self.user = user
        self.password =
            components.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? environment["PGPASSWORD"]
        self.database = name
        let portText = query["port"] ?? components.port.map(String.init) ?? "5432"
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw TraceError(.storage, "database URL '\(Self.redact(text))': port '\(portText)' is not 1-65535")
        }
        self.port = port
        if let directory = query["host"] {
            guard directory.hasPrefix("/") else {
                throw TraceError(.storage, "database URL '\(Self.redact(text))': host= must be a socket directory")
            }
            socketDirectory = directory
            host = nil
        } else {
            guard let host = components.host, !host.isEmpty else {
                throw TraceError(.storage, "database URL '\(Self.redact(text))': no host (or ?host=/SOCKET/DIR)")
            }
            self.host = host
            socketDirectory = nil
        }
        let mode = query["sslmode"] ?? (socketDirectory == nil ? "prefer" : "disable")
        guard let tls = TLSMode(rawValue: mode) else {
            throw TraceError(
                .storage, "database URL '\(Self.redact(text))': sslmode '\(mode)' is not disable, prefer or require")
        }
        self.tls = tls
    }

    /// The URL without its password: what messages and `trace list` show.
    public var description: String {
        var text = "postgres://\(user)@\(host.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "")"
        if host != nil { text += ":\(port)" }
        text += "/\(database)"
        if let socketDirectory { text += "?host=\(socketDirectory)&port=\(port)" }
        return text
    }

    /// `text` with any password replaced by `***`.
    static func redact(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://"),
            let colon = text[scheme.upperBound..<at].firstIndex(of: ":")
        else { return text }
        return String(text[..<text.index(after: colon)]) + "***" + String(text[at...])
    }
}
