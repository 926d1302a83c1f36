import Agent
import AirlockCore
import Foundation
import Runs
import Trace

#if canImport(Glibc)
    import Glibc
#endif

/// Scale-out on PostgreSQL (docs/scale.md): runs per second drained from the queue by 1, 2 and 4
/// `airlock worker` processes on a throw-away PostgreSQL cluster, each run `log-triage` with a
/// scripted model and `logs.search` in the real sandbox; against one process on SQLite (this
/// one) running the same runs through the same run constructor, measured in the same invocation.
struct ScaleBench {
    /// The release `airlock` binary the workers run.
    var airlock: URL?
    /// The repository root (the workflow, the tool manifests, the sample site script).
    var repository: URL
    /// Runs per figure.
    var runs = 40
    /// The worker counts.
    var workerCounts = [1, 2, 4]

    func run(scratch: URL) async throws -> [Row] {
        guard let airlock else { throw BenchError("no airlock binary given (--airlock PATH)") }
        let directory = scratch.appendingPathComponent("scale-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        defer { try? FileManager.default.removeItem(at: directory) }
        // The home every worker and the anchor share: the sample site, the shipped tools registered,
        // one key (made once here, so that the workers do not race to create it).
        let home = directory.appendingPathComponent("home")
        try FileManager.default.createDirectory(
            at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        let environment = [
            "AIRLOCK_HOME": home.path, "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": directory.path,
        ]
        _ = try Spawn.output(
            [repository.appendingPathComponent("tools/setup-sample-site").path], environment: environment)
        let tools = repository.appendingPathComponent("manifests/tools")
        let manifests = try FileManager.default.contentsOfDirectory(atPath: tools.path).filter { $0.hasSuffix(".yaml") }
            .sorted().map { tools.appendingPathComponent($0).path }
        _ = try Spawn.output([airlock.path, "tools", "add"] + manifests, environment: environment)
        let airlockHome = AirlockHome(root: home)
        let key = try TraceSigningKey.loadOrCreate(directory: airlockHome.keys)
        let workflow = repository.appendingPathComponent("manifests/workflows/log-triage.yaml")
        let script = directory.appendingPathComponent("model.yaml")
        try Data(
            "responses:\n  - tool_calls: [{name: logs.search, arguments: {pattern: ERROR, max_matches: 5}}]\n  - content: Two timeouts.\n"
                .utf8
        ).write(to: script)

        let cluster = try BenchPostgres(directory: directory.appendingPathComponent("pg"))
        defer { cluster.stop() }

        // The anchor: this process, the SQLite trace, the same runs one after another.
        let constructor = RunConstructor(home: airlockHome)
        let store = try TraceStore(path: directory.appendingPathComponent("anchor.sqlite").path)
        let anchorStart = Stats.now()
        for n in 0..<runs {
            let prepared = try constructor.live(
                RunRequest(
                    workflow: workflow, parameters: ["level": "ERROR"], model: .endpoint("script:" + script.path),
                    runID: "anchor-\(n)", principal: "bench"))
            let outcome = try await prepared.run(store: store, key: key)
            guard outcome.status == .succeeded else { throw BenchError("anchor run \(n): \(outcome.status)") }
        }
        let anchor = Double(runs) / (Stats.since(anchorStart) / 1e9)

        var rows: [Row] = []
        let digest = SHA256.hex(Array(try Data(contentsOf: workflow)))
        for count in workerCounts {
            let database = "scale_\(count)"
            try cluster.psql("CREATE DATABASE \(database)", database: "postgres")
            _ = try Spawn.output(
                [airlock.path, "db", "init", "--database", cluster.url(user: "postgres", database: database)],
                environment: environment)
            try cluster.psql(
                """
                INSERT INTO airlock.queue(run_id, workflow, workflow_sha256, parameters, model, principal)
                SELECT 'scale-' || g, '\(workflow.path)', '\(digest)', '{"level":"ERROR"}', 'script:\(script.path)', 'bench'
                FROM generate_series(1, \(runs)) g
                """, database: database)
            let url = cluster.url(user: "airlock_worker", database: database)
            let start = Stats.now()
            let workers = try (0..<count).map { n -> Process in
                let process = Process()
                process.executableURL = airlock
                process.arguments = [
                    "worker", "--exit-when-idle", "--name", "bench-\(n)", "--poll-seconds", "0.05", "--database", url,
                ]
                process.environment = environment
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                return process
            }
            for worker in workers { worker.waitUntilExit() }
            let seconds = Stats.since(start) / 1e9
            for worker in workers where worker.terminationStatus != 0 {
                throw BenchError("a worker exited \(worker.terminationStatus)")
            }
            let done = try cluster.psql(
                "SELECT count(*) FROM airlock.queue WHERE state = 'finished' AND status = 'succeeded' AND attempt = 1",
                database: database
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            guard done == String(runs) else { throw BenchError("\(count) workers: \(done) of \(runs) runs succeeded") }
            rows.append(
                Row(
                    id: "scale.workers_\(count)",
                    what: "runs/s drained by \(count) `airlock worker` process\(count == 1 ? "" : "es") on PostgreSQL",
                    figure: Double(runs) / seconds, unit: "runs/s", anchor: anchor,
                    anchorName: "one process on SQLite, the same runs", comparison: .ratio,
                    note:
                        "\(runs) runs of log-triage (scripted model, logs.search in the real sandbox); \(ProcessInfo.processInfo.activeProcessorCount) cores"
                ))
        }
        return rows
    }
}

/// A throw-away PostgreSQL cluster in `directory`, on a unix socket only (Debian's `postgresql`,
/// installed by tools/install-deps), run as `postgres` when this process is root.
struct BenchPostgres {
    let directory: URL
    let port: Int
    let bin: String

    init(directory: URL) throws {
        self.directory = directory
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard
            let version = versions.sorted().last(where: {
                FileManager.default.fileExists(atPath: "/usr/lib/postgresql/\($0)/bin/initdb")
            })
        else { throw BenchError("PostgreSQL is not installed (tools/install-deps installs Debian's postgresql)") }
        bin = "/usr/lib/postgresql/\(version)/bin"
        port = Int.random(in: 20_000...40_000)
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        if geteuid() == 0 { _ = try Spawn.output(["/bin/chown", "postgres:postgres", directory.path]) }
        try server(["\(bin)/initdb", "-D", "\(directory.path)/data", "-A", "trust", "-U", "postgres", "--no-sync"])
        try server([
            "\(bin)/pg_ctl", "-D", "\(directory.path)/data", "-l", "\(directory.path)/server.log", "-w", "-t", "60",
            "-o", "-k \(directory.path) -p \(port) -c listen_addresses='' -c max_connections=100", "start",
        ])
    }

    /// Runs a server tool with its output on /dev/null: the server `pg_ctl start` leaves running
    /// would hold a pipe open forever.
    private func server(_ argv: [String]) throws {
        let command = geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + argv : argv
        try Spawn.run(["/usr/bin/env", "-C", "/"] + command, environment: ["PATH=/usr/bin:/bin"])
    }

    func url(user: String, database: String) -> String {
        "postgres://\(user)@localhost/\(database)?host=\(directory.path)&port=\(port)"
    }

    @discardableResult
    func psql(_ sql: String, database: String) throws -> String {
        try Spawn.output([
            "/usr/bin/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", directory.path, "-p", String(port),
            "-U", "postgres", "-d", database, "-c", sql,
        ])
    }

    func stop() {
        _ = try? server(["\(bin)/pg_ctl", "-D", "\(directory.path)/data", "-m", "immediate", "-w", "stop"])
    }
}
