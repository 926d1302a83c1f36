import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The scale-out commands as a site runs them: `db init`, `submit`, `worker` processes, `runs`,
/// `trace verify` as the auditor, `trace copy` both ways; and a worker killed with SIGKILL mid-run.
@Suite("scale-out on PostgreSQL (CLI)", .serialized)
final class ScaleCLITests {
    let home: URL
    let scratch: URL
    let server: PostgresTestServer
    let database: String

    init() throws {
        home = try SampleSite.make("airlock-scale-home")
        scratch = try CLI.temporaryDirectory("airlock-scale-scratch")
        try FileManager.default.setAttributes([.posixPermissions: 0o711], ofItemAtPath: scratch.path)
        server = try PostgresTestServer.start()
        database = try server.createDatabase("scale")
    }

    deinit {
        try? FileManager.default.removeItem(at: home)
        try? FileManager.default.removeItem(at: scratch)
    }

    var worker: String { server.url(user: "airlock_worker", database: database) }
    var auditor: String { server.url(user: "airlock_auditor", database: database) }
    var owner: String { server.url(database: database) }
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }
    var workflow: String { SampleSite.root.appendingPathComponent("manifests/workflows/log-triage.yaml").path }

    func run(_ arguments: [String]) throws -> CLIResult { try CLI.run(arguments, environment: env) }

    func file(_ name: String, _ text: String, mode: Int = 0o644) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        return url.path
    }

    /// `trace: URL` in the home's site.yaml, beside what the sample site set.
    func configureSite(_ url: String) throws {
        let site = home.appendingPathComponent("site.yaml")
        let text = (try? String(contentsOf: site, encoding: .utf8)) ?? ""
        try Data((text + "\ntrace: \(url)\n").utf8).write(to: site)
    }

    @Test func submittedRunsAreRunByWorkersAndVerifyAsTheAuditor() throws {
        let initialised = try run(["db", "init", "--database", owner])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        try configureSite(worker)
        let script = try file(
            "answer.yaml",
            "responses:\n  - tool_calls: [{name: logs.search, arguments: {pattern: ERROR, max_matches: 5}}]\n  - content: Two timeouts.\n"
        )
        var ids: [String] = []
        for _ in 0..<3 {
            let submitted = try run(["submit", workflow, "--param", "level=ERROR", "--model", "script:" + script])
            #expect(submitted.status == 0, "\(submitted.stderr)")
            ids.append(submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let queued = try run(["runs", "list", "--state", "queued"])
        #expect(queued.stdout.split(separator: "\n").count == 3, "\(queued.stdout)")
        let worked = try run(["worker", "--exit-when-idle", "--name", "host-a", "--poll-seconds", "0.1"])
        #expect(worked.status == 0, "\(worked.stderr)")
        #expect(worked.stdout.contains("3 ran, 0 requeued, 0 abandoned, 0 lost"), "\(worked.stdout)\(worked.stderr)")
        for id in ids {
            let shown = try JSONParser().parse(try run(["runs", "show", id, "--json"]).stdout)
            #expect(shown["state"]?.stringValue == "finished" && shown["status"]?.stringValue == "succeeded")
            #expect(
                shown["history"]?.arrayValue?.compactMap { $0["kind"]?.stringValue } == [
                    "submitted", "claimed", "finished",
                ])
        }
        let verified = try run(["trace", "verify", "--all", "--database", auditor])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        // Three runs and the ledger.
        #expect(verified.stdout.components(separatedBy: "intact").count - 1 == 4, "\(verified.stdout)")
        // And back to a file a reviewer takes away, and into a second database.
        let file = scratch.appendingPathComponent("review.sqlite").path
        let copied = try run(["trace", "copy", "--from", auditor, "--to", "sqlite:" + file])
        #expect(copied.status == 0 && copied.stdout.contains("3 copied"), "\(copied.stdout)\(copied.stderr)")
        #expect(try run(["trace", "verify", "--all", "--database", file]).status == 0)
        let again = try run(["trace", "copy", "--from", auditor, "--to", file])
        #expect(again.stdout.contains("0 copied, 3 already present"), "\(again.stdout)")
        // The auditor cannot write: copying into the shared trace as the auditor is refused.
        let other = try server.createDatabase("scale_other")
        #expect(try run(["db", "init", "--database", server.url(database: other)]).status == 0)
        let refused = try run([
            "trace", "copy", "--from", file, "--to", server.url(user: "airlock_auditor", database: other),
        ])
        #expect(refused.status == 74 && refused.stderr.contains("read-only"), "\(refused.stderr)")
        #expect(
            try run(["trace", "copy", "--from", file, "--to", server.url(user: "airlock_worker", database: other)])
                .status == 0)
        // Cancel: a finished run cannot be; a queued one is at once.
        #expect(try run(["runs", "cancel", ids[0]]).status == 1)
        let late = try run(["submit", workflow, "--param", "level=ERROR", "--model", "script:" + script]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try run(["runs", "cancel", late]).stdout.contains("cancelled"))
    }

    @Test func aWorkerKilledMidRunIsRescuedAbandonedAndItsTraceVerifies() async throws {
        #expect(try run(["db", "init", "--database", owner]).status == 0)
        try configureSite(worker)
        // Long enough that it is still sleeping however slowly the wait below sees it start (on a
        // loaded 2-core machine each psql poll can take seconds): the kill ends it, not the clock.
        let script = SlowTool.script(seconds: 600)
        _ = try file("sleep.sh", script, mode: 0o755)
        let manifest = try file("slow.sleep.yaml", SlowTool.manifest(script: script, timeoutSeconds: 900))
        let added = try run(["tools", "add", manifest])
        try #require(added.status == 0, "\(added.stderr)")
        _ = try file("slow-policy.yaml", SlowTool.policy)
        let slow = try file("slow.yaml", SlowTool.workflow(policy: "slow-policy.yaml", budgets: "{wall_seconds: 1200}"))
        let model = try file(
            "slow-model.yaml", "responses:\n  - tool_calls: [{name: slow.sleep, arguments: {}}]\n  - content: Slept.\n")
        let id = try run(["submit", slow, "--model", "script:" + model, "--run-id", "killed-run"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id == "killed-run")

        // Worker A, in the background, with a short lease; killed while the tool sleeps.
        let a = Process()
        a.executableURL = CLI.binary
        a.arguments = ["worker", "--name", "host-a", "--lease-seconds", "1.5", "--poll-seconds", "0.1"]
        a.environment = [
            "AIRLOCK_HOME": home.path, "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": NSTemporaryDirectory(),
        ]
        a.standardOutput = FileHandle.nullDevice
        a.standardError = FileHandle.nullDevice
        try a.run()
        try await AgentFixture.waitUntil("the slow tool started under worker A") {
            let types = try server.psql(
                "SELECT string_agg(type, ',' ORDER BY seq) FROM airlock.events WHERE run_id = 'killed-run'",
                database: database)
            let marker = try self.startedMarker()
            return types.contains("policy.decision") && FileManager.default.fileExists(atPath: marker)
        }
        kill(a.processIdentifier, SIGKILL)
        a.waitUntilExit()
        #expect(a.terminationReason == .uncaughtSignal)

        // Worker B finds the lease expired and settles the run from its trace.
        let b = try run([
            "worker", "--exit-when-idle", "--name", "host-b", "--lease-seconds", "1.5", "--poll-seconds", "0.1",
        ])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(b.stdout.contains("0 ran, 0 requeued, 1 abandoned"), "\(b.stdout)\(b.stderr)")
        let shown = try JSONParser().parse(try run(["runs", "show", id, "--json"]).stdout)
        #expect(shown["state"]?.stringValue == "abandoned")
        #expect(shown["reason"]?.stringValue?.contains("attempt 1 by host-a") == true, "\(shown)")
        #expect(
            shown["history"]?.arrayValue?.compactMap { $0["kind"]?.stringValue }
                == ["submitted", "claimed", "lease-expired", "abandoned"])
        let verified = try run(["trace", "verify", id, "--database", auditor])
        #expect(verified.status == 0 && verified.stdout.contains("intact"), "\(verified.stdout)\(verified.stderr)")
        let events = try run(["trace", "show", id, "--json", "--database", auditor])
        #expect(events.stdout.contains("lease-expired") && events.stdout.contains("abandoned"), "\(events.stdout)")
        // The tool was not run again: one start, and no second claim.
        #expect(
            try server.psql(
                "SELECT count(*) FROM airlock.events WHERE run_id = 'killed-run' AND type = 'tool.proposed'",
                database: database
            ).hasPrefix("1"))
    }

    /// The `started` file the slow tool writes in the run's workspace.
    func startedMarker() throws -> String {
        let workspaces = home.appendingPathComponent("workspaces")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workspaces.path)) ?? []
        return names.map { workspaces.appendingPathComponent($0).appendingPathComponent("started").path }
            .first { FileManager.default.fileExists(atPath: $0) } ?? "/nonexistent"
    }
}

/// A thousand queued runs drained by four worker processes at once, each on a host of its own (a
/// network namespace joined to the database host's by a veth pair, reaching PostgreSQL over TCP):
/// none lost, none run twice.
@Suite("scale-out: a thousand runs drain (CLI)", .serialized)
final class ScaleDrainCLITests {
    @Test func aThousandQueuedScriptedRunsDrainWithNoRunLostOrRunTwice() async throws {
        let home = try SampleSite.make("airlock-drain-home")
        let scratch = try CLI.temporaryDirectory("airlock-drain-scratch")
        defer {
            try? FileManager.default.removeItem(at: home)
            try? FileManager.default.removeItem(at: scratch)
        }
        try #require(TestNetwork.available, "the worker hosts are network namespaces: this needs root and iproute2")
        let hosts = try (0..<4).map { _ in try TestNetwork() }
        let server = try PostgresTestServer.dedicated(
            tcp: hosts.map { (listen: $0.hostAddress, client: $0.serviceAddress) })
        defer { server.stop() }
        let database = try server.createDatabase("drain")
        let env = ["AIRLOCK_HOME": home.path]
        #expect(
            try CLI.run(["db", "init", "--database", server.url(database: database)], environment: env).status == 0)
        let worker = server.url(user: "airlock_worker", database: database)
        let workflow = SampleSite.root.appendingPathComponent("manifests/workflows/log-triage.yaml").path
        let script = scratch.appendingPathComponent("answer.yaml").path
        try Data("responses:\n  - content: Nothing to triage.\n".utf8).write(to: URL(fileURLWithPath: script))
        // A few through the command, the rest in one statement as a submitting service would.
        for i in 0..<3 {
            let submitted = try CLI.run(
                [
                    "submit", workflow, "--param", "level=ERROR", "--model", "script:" + script, "--run-id",
                    "drain-cli-\(i)", "--database", worker,
                ], environment: env)
            try #require(submitted.status == 0, "\(submitted.stderr)")
        }
        let digest = SHA256.hex(Array(try Data(contentsOf: URL(fileURLWithPath: workflow))))
        try server.psql(
            """
            INSERT INTO airlock.queue(run_id, workflow, workflow_sha256, parameters, model, principal)
            SELECT 'drain-' || g, '\(workflow)', '\(digest)', '{"level":"ERROR"}', 'script:\(script)', 'ana'
            FROM generate_series(1, 997) g
            """, user: "airlock_worker", database: database)

        let started = Date()
        let workers = try (0..<4).map { n -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: TestNetwork.ipPath)
            process.arguments = [
                "netns", "exec", hosts[n].name, CLI.binary.path, "worker", "--exit-when-idle", "--name", "drain-\(n)",
                "--poll-seconds", "0.05", "--database",
                server.url(user: "airlock_worker", database: database, host: hosts[n].hostAddress),
            ]
            process.environment = [
                "AIRLOCK_HOME": home.path, "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": NSTemporaryDirectory(),
            ]
            let output = scratch.appendingPathComponent("worker-\(n).out")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        try await AgentFixture.waitUntil("the workers exited", seconds: 1200) { workers.allSatisfy { !$0.isRunning } }
        let seconds = Date().timeIntervalSince(started)
        var ran = 0
        for (n, process) in workers.enumerated() {
            #expect(process.terminationStatus == 0)
            let text = try String(contentsOf: scratch.appendingPathComponent("worker-\(n).out"), encoding: .utf8)
            let count = Int(text.split(separator: ":").last?.split(separator: " ").first ?? "") ?? -1
            #expect(text.contains("0 lost"), "\(text)")
            ran += count
        }
        #expect(ran == 1000)
        print("drain: 1000 runs by 4 workers in \(String(format: "%.1f", seconds)) s")
        func count(_ sql: String) throws -> String {
            try server.psql(sql, database: database).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Every run finished exactly once: one claim each, one trace run each, each run's events once.
        #expect(
            try count(
                "SELECT count(*) FROM airlock.queue WHERE state = 'finished' AND status = 'succeeded' AND attempt = 1")
                == "1000")
        #expect(try count("SELECT count(*) FROM airlock.queue_events WHERE kind = 'claimed'") == "1000")
        #expect(try count("SELECT count(DISTINCT worker) FROM airlock.queue") == "4")
        #expect(
            try count(
                "SELECT count(*) FROM airlock.runs r JOIN airlock.run_finishes f USING (run_id) WHERE f.status = 'succeeded'"
            ) == "1000")
        #expect(
            try count(
                "SELECT count(*) FROM (SELECT run_id FROM airlock.events WHERE type = 'run.started' GROUP BY run_id HAVING count(*) = 1) s"
            ) == "1000")
        let verified = try CLI.run(
            ["trace", "verify", "--all", "--database", server.url(user: "airlock_auditor", database: database)],
            environment: env)
        #expect(verified.status == 0, "\(verified.stderr)")
        // A thousand runs and the ledger.
        #expect(verified.stdout.components(separatedBy: ": intact").count - 1 == 1001, "\(verified.stdout.suffix(400))")
        #expect(verified.stdout.contains("ledger: intact (2001 entries"), "\(verified.stdout.suffix(300))")
    }
}
