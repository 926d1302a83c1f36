import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A throw-away PostgreSQL cluster for the scale-out tests: Debian's server binaries, `initdb` into
/// a temporary directory owned by the `postgres` user (the server refuses to run as root),
/// listening on a unix socket in that directory (and on `tcpAddress` when one is given), stopped
/// and removed when the test process exits. One cluster per process; each test makes its own
/// database (``createDatabase(_:)``). It never skips: a host that cannot start it fails the test
/// that asked (tools/install-deps installs `postgresql`).
public final class PostgresTestServer: Sendable {
    /// The socket directory (`?host=` of a URL).
    public let socketDirectory: String
    /// The port (the socket file's number, and the TCP port).
    public let port: Int
    /// The server binaries.
    public let binDirectory: String
    let root: String

    private static let shared = Mutex<Result<PostgresTestServer, PostgresTestServerError>?>(nil)

    /// The process's cluster, started on first use.
    /// - Throws: ``PostgresTestServerError`` when the server cannot be set up or started.
    public static func start() throws(PostgresTestServerError) -> PostgresTestServer {
        let result = shared.withLock { state -> Result<PostgresTestServer, PostgresTestServerError> in
            if let state { return state }
            reapAbandoned()
            let made = Result { () throws(PostgresTestServerError) -> PostgresTestServer in
                try PostgresTestServer(tcp: [])
            }
            state = made
            if case .success = made {
                atexit {
                    if case .success(let server)? = PostgresTestServer.shared.withLock({ $0 }) { server.stop() }
                }
            }
            return made
        }
        return try result.get()
    }

    /// A cluster of its own that also listens on TCP at each `listen` address (the database host's
    /// end of a ``TestNetwork``'s veth pair) and trusts connections from its `client` address
    /// only. The caller stops it (``stop()``).
    /// - Throws: ``PostgresTestServerError``.
    public static func dedicated(tcp: [(listen: String, client: String)]) throws(PostgresTestServerError)
        -> PostgresTestServer
    {
        try PostgresTestServer(tcp: tcp)
    }

    private init(tcp: [(listen: String, client: String)]) throws(PostgresTestServerError) {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }).last else {
            throw PostgresTestServerError(
                "no PostgreSQL server under /usr/lib/postgresql (tools/install-deps installs postgresql)")
        }
        binDirectory = "/usr/lib/postgresql/\(version)/bin"
        root = NSTemporaryDirectory() + "airlock-pg-" + UUID().uuidString.prefix(8).lowercased()
        socketDirectory = root
        port = 20000 + Int.random(in: 0..<30000)
        do {
            try FileManager.default.createDirectory(
                atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw PostgresTestServerError("cannot create \(root): \(error)")
        }
        // Whose cluster this is: a test process that dies before its exit handler runs (a crash,
        // SIGKILL) leaves it, and the next test process stops it (``reapAbandoned()``).
        _ = FileManager.default.createFile(atPath: "\(root)/owner.pid", contents: Data("\(getpid())\n".utf8))
        if getuid() == 0 {
            try Self.run("/bin/chown", ["postgres:postgres", root])
        }
        try asServer(
            "\(binDirectory)/initdb",
            ["-D", "\(root)/data", "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"])
        if !tcp.isEmpty {
            let lines = tcp.map { "host all all \($0.client)/32 trust\n" }.joined()
            guard let handle = FileHandle(forWritingAtPath: "\(root)/data/pg_hba.conf") else {
                throw PostgresTestServerError("cannot open \(root)/data/pg_hba.conf")
            }
            handle.seekToEndOfFile()
            handle.write(Data(lines.utf8))
            handle.closeFile()
        }
        let listen = tcp.map(\.listen).joined(separator: ",")
        try asServer(
            "\(binDirectory)/pg_ctl",
            [
                "-D", "\(root)/data", "-l", "\(root)/server.log", "-w", "-t", "60", "-o",
                "-k \(root) -p \(port) -c listen_addresses='\(listen)' -c fsync=off -c max_connections=200", "start",
            ])
    }

    /// Stops and removes the clusters of test processes that are gone.
    static func reapAbandoned() {
        let temporary = NSTemporaryDirectory()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
        for name in names where name.hasPrefix("airlock-pg-") {
            let directory = (temporary as NSString).appendingPathComponent(name)
            guard let text = try? String(contentsOfFile: directory + "/owner.pid", encoding: .utf8),
                let owner = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                kill(owner, 0) != 0, errno == ESRCH
            else { continue }
            let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
            for version in versions {
                let tool = "/usr/lib/postgresql/\(version)/bin/pg_ctl"
                let arguments = ["-D", directory + "/data", "-m", "immediate", "-w", "stop"]
                _ = try? run(
                    getuid() == 0 ? "/usr/sbin/runuser" : tool,
                    getuid() == 0 ? ["-u", "postgres", "--", tool] + arguments : arguments)
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Stops the cluster and removes its directory.
    public func stop() {
        _ = try? asServer("\(binDirectory)/pg_ctl", ["-D", "\(root)/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A URL for `user` on `database` over TCP at `host`.
    public func url(user: String, database: String, host: String) -> String {
        "postgres://\(user)@\(host):\(port)/\(database)?sslmode=disable"
    }

    /// A URL for `user` on `database` over the socket.
    public func url(user: String = "postgres", database: String) -> String {
        "postgres://\(user)@localhost/\(database)?host=\(socketDirectory)&port=\(port)"
    }

    /// Creates a database with a fresh name starting with `prefix`, and returns that name.
    /// - Throws: ``PostgresTestServerError`` with psql's output.
    public func createDatabase(_ prefix: String) throws(PostgresTestServerError) -> String {
        let name = prefix + "_" + UUID().uuidString.prefix(8).lowercased()
        _ = try psql("CREATE DATABASE \(name)", database: "postgres")
        return name
    }

    /// Runs `sql` through `psql` as `user` and returns its output, or throws with its output when
    /// it fails (`ON_ERROR_STOP`).
    /// - Throws: ``PostgresTestServerError`` holding psql's stderr.
    @discardableResult
    public func psql(_ sql: String, user: String = "postgres", database: String) throws(PostgresTestServerError)
        -> String
    {
        try Self.run(
            "/usr/bin/psql",
            [
                "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory, "-p", String(port), "-U", user,
                "-d", database, "-c", sql,
            ])
    }

    @discardableResult
    private func asServer(_ tool: String, _ arguments: [String]) throws(PostgresTestServerError) -> String {
        if getuid() == 0 {
            return try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", tool] + arguments)
        }
        return try Self.run(tool, arguments)
    }

    /// Runs `tool` and waits for it with `waitpid` (not Foundation's `Process`, whose exit
    /// monitoring was seen to miss `runuser`'s exit and wait forever), its output in a file.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws(PostgresTestServerError) -> String {
        let output = NSTemporaryDirectory() + "airlock-pgrun-" + UUID().uuidString
        defer { unlink(output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // From `/`: the server's user may not enter the test's directory.
        let argv = (["/usr/bin/env", "-C", "/", tool] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw PostgresTestServerError("cannot start \(tool): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        // WIFEXITED && WEXITSTATUS == 0
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw PostgresTestServerError(
                "\(tool) \(arguments.joined(separator: " ")) exited with wait status \(status): \(text)")
        }
        return text
    }
}

/// Why the test cluster could not be used.
public struct PostgresTestServerError: Error, CustomStringConvertible, Sendable {
    /// What failed, with the tool's output.
    public var description: String

    init(_ description: String) { self.description = description }
}
