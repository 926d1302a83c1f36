import Foundation
import PostgresNIO
import Synchronization
import Trace

/// What a PostgreSQL statement failed with: the stage, the server's SQLSTATE and message.
public struct PostgresFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was being done (`append event 3 to run r1`).
    public var stage: String
    /// The server's SQLSTATE (`23505` unique violation, `42501` insufficient privilege), or `nil`
    /// when the server was not reached or the connection broke.
    public var sqlState: String?
    /// The server's or the client's message.
    public var message: String

    /// Creates a failure.
    public init(stage: String, sqlState: String?, message: String) {
        self.stage = stage
        self.sqlState = sqlState
        self.message = message
    }

    /// A unique or primary key was violated (someone else wrote that row first).
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// The role lacks the privilege (a grant refused it).
    public var isPermissionDenied: Bool { sqlState == "42501" }
    /// The server is gone or could not be reached.
    public var isConnectionLost: Bool { sqlState == nil }

    /// `stage: [SQLSTATE] message`.
    public var description: String { "\(stage): \(sqlState.map { "[\($0)] " } ?? "")\(message)" }

    init(stage: String, _ error: any Error) {
        if let error = error as? PSQLError {
            let server = error.serverInfo
            let cause = error.underlying.map { ": \($0)" } ?? ""
            self.init(
                stage: stage, sqlState: server?[.sqlState],
                message: server?[.message] ?? "\(error.code)\(cause)")
        } else {
            self.init(stage: stage, sqlState: nil, message: "\(error)")
        }
    }
}

/// A value bound to a statement's `$n`.
public enum PostgresValue: Sendable, Hashable {
    /// `text`.
    case text(String)
    /// `bigint`.
    case integer(Int64)
    /// `bytea`.
    case bytes([UInt8])
    /// `boolean`.
    case bool(Bool)
    /// `double precision`.
    case double(Double)
    /// SQL NULL.
    case null
}

/// One row of a result, read by column position.
public struct PostgresRecord: Sendable {
    private let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

    /// Whether column `i` is NULL.
    public func isNull(_ i: Int) -> Bool { row[i].bytes == nil }
    /// Column `i` as text, or `nil` when NULL.
    public func text(_ i: Int) -> String? { try? row[i].decode(String?.self) }
    /// Column `i` as a 64-bit integer (0 when NULL).
    public func int64(_ i: Int) -> Int64 { (try? row[i].decode(Int64?.self)) ?? 0 }
    /// Column `i` as a double (0 when NULL).
    public func double(_ i: Int) -> Double { (try? row[i].decode(Double?.self)) ?? 0 }
    /// Column `i` as a boolean (`false` when NULL).
    public func bool(_ i: Int) -> Bool { (try? row[i].decode(Bool?.self)) ?? false }
    /// Column `i` as bytes (empty when NULL).
    public func bytes(_ i: Int) -> [UInt8] {
        guard let buffer = try? row[i].decode(ByteBuffer?.self) else { return [] }
        return Array(buffer.readableBytesView)
    }
}

/// One connection to PostgreSQL, used synchronously (as the SQLite store is): each call waits for
/// the server's answer. The connection runs on SwiftNIO's shared event loop group, which starts
/// only when the first session is opened, so a host that never names a postgres URL starts no
/// NIO thread. A broken connection is opened again at the next call outside a transaction.
public final class PostgresSession: Sendable {
    /// Where the session connects.
    public let url: PostgresURL
    private let connection: Mutex<PostgresConnection?>
    private static let logger = Logger(label: "airlock.postgres")

    /// Connects to `url`.
    /// - Throws: ``PostgresFailure`` (stage `connect to …`) when the server cannot be reached or
    ///   refuses the login.
    public init(url: PostgresURL) throws(PostgresFailure) {
        self.url = url
        connection = Mutex(try Self.connect(url))
    }

    deinit {
        // Waited for: PostgresNIO requires a connection to be closed before it is released.
        connection.withLock { connection in
            if let connection { _ = try? connection.close().wait() }
        }
    }

    private static func connect(_ url: PostgresURL) throws(PostgresFailure) -> PostgresConnection {
        let stage = "connect to \(url)"
        do {
            var configuration: PostgresConnection.Configuration
            if let socket = url.socketPath {
                configuration = .init(
                    unixSocketPath: socket, username: url.user, password: url.password, database: url.database)
            } else {
                let tls: PostgresConnection.Configuration.TLS
                switch url.tls {
                case .disable: tls = .disable
                case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
                case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
                }
                configuration = .init(
                    host: url.host ?? "localhost", port: url.port, username: url.user, password: url.password,
                    database: url.database, tls: tls)
            }
            configuration.options.connectTimeout = .seconds(10)
            return try PostgresConnection.connect(
                on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration, id: 1,
                logger: logger
            ).wait()
        } catch {
            throw PostgresFailure(stage: stage, error)
        }
    }

    /// Runs one statement and returns its rows.
    /// - Throws: ``PostgresFailure`` naming `stage`.
    @discardableResult
    public func query(_ sql: String, _ values: [PostgresValue] = [], stage: String) throws(PostgresFailure)
        -> [PostgresRecord]
    {
        try withConnection { (connection: PostgresConnection) throws(PostgresFailure) -> [PostgresRecord] in
            try Self.run(sql, values, stage: stage, on: connection)
        }
    }

    /// Runs `body` in one transaction (`BEGIN` … `COMMIT`; `ROLLBACK` when it throws).
    /// - Parameters:
    ///   - stage: what the transaction does, for messages.
    ///   - mapFailure: turns a failure of `BEGIN`, `COMMIT` or the connection into the caller's error.
    ///   - body: the statements.
    /// - Throws: what `body` throws, or the mapped failure when the transaction cannot commit.
    public func transaction<T, E: Error>(
        stage: String, mapFailure: (PostgresFailure) -> E, _ body: (PostgresTransaction) throws(E) -> T
    ) throws(E) -> T {
        var bodyError: E?
        let outcome: Result<T?, any Error> = withConnectionResult { connection in
            do throws(PostgresFailure) {
                try Self.run("BEGIN", [], stage: "begin: \(stage)", on: connection)
            } catch {
                return .failure(error)
            }
            do throws(E) {
                let value = try body(PostgresTransaction(connection: connection))
                do throws(PostgresFailure) {
                    try Self.run("COMMIT", [], stage: "commit: \(stage)", on: connection)
                } catch {
                    return .failure(error)
                }
                return .success(value)
            } catch {
                _ = try? Self.run("ROLLBACK", [], stage: "rollback: \(stage)", on: connection)
                bodyError = error
                return .success(nil)
            }
        }
        if let bodyError { throw bodyError }
        switch outcome {
        case .success(let value?): return value
        case .success(nil): throw mapFailure(PostgresFailure(stage: stage, sqlState: nil, message: "no result"))
        case .failure(let error):
            throw mapFailure((error as? PostgresFailure) ?? PostgresFailure(stage: stage, error))
        }
    }

    private func withConnectionResult<T>(_ body: (PostgresConnection) -> Result<T, any Error>) -> Result<T, any Error> {
        connection.withLock { (connection: inout PostgresConnection?) -> Result<T, any Error> in
            if let open = connection, !open.isClosed { return body(open) }
            do {
                let open = try Self.connect(url)
                connection = open
                return body(open)
            } catch {
                return .failure(error)
            }
        }
    }

    private func withConnection<T>(_ body: (PostgresConnection) throws(PostgresFailure) -> T) throws(PostgresFailure)
        -> T
    {
        let result = withConnectionResult { connection -> Result<T, any Error> in
            do throws(PostgresFailure) {
                return .success(try body(connection))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let value): return value
        case .failure(let error): throw (error as? PostgresFailure) ?? PostgresFailure(stage: "query", error)
        }
    }

    @discardableResult
    static func run(_ sql: String, _ values: [PostgresValue], stage: String, on connection: PostgresConnection)
        throws(PostgresFailure) -> [PostgresRecord]
    {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let text): binds.append(text)
            case .integer(let number): binds.append(number)
            case .bytes(let bytes): binds.append(ByteBuffer(bytes: bytes))
            case .bool(let flag): binds.append(flag)
            case .double(let number): binds.append(number)
            case .null: binds.appendNull()
            }
        }
        do {
            let result = try connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).wait()
            return result.map(PostgresRecord.init)
        } catch {
            throw PostgresFailure(stage: stage, error)
        }
    }
}

/// The statements of one open transaction (``PostgresSession/transaction(stage:_:)``).
public struct PostgresTransaction: Sendable {
    let connection: PostgresConnection

    /// Runs one statement inside the transaction.
    /// - Throws: ``PostgresFailure`` naming `stage`; the transaction then rolls back.
    @discardableResult
    public func query(_ sql: String, _ values: [PostgresValue] = [], stage: String) throws(PostgresFailure)
        -> [PostgresRecord]
    {
        try PostgresSession.run(sql, values, stage: stage, on: connection)
    }
}
