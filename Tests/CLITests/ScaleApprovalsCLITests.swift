import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// Approvals across hosts: a worker in a network namespace of its own runs a submitted workflow
/// whose policy asks a person; `airlock approvals` from a second namespace (another host, with a
/// home of its own) reaches the request through PostgreSQL as the approvers' role, and answers it;
/// the run finishes and verifies. The workers' role is refused the answer by the database.
@Suite("scale-out: approvals across hosts (CLI)", .serialized)
final class ScaleApprovalsCLITests {
    @Test func aWorkersRunWaitingOnAnApprovalIsAnsweredFromAnotherHostThroughPostgres() async throws {
        try #require(TestNetwork.available, "the hosts are network namespaces: this needs root and iproute2")
        let home = try SampleSite.make("airlock-xapprove-home")
        let approverHome = try SampleSite.make("airlock-xapprove-approver")
        defer {
            try? FileManager.default.removeItem(at: home)
            try? FileManager.default.removeItem(at: approverHome)
        }
        let workerHost = try TestNetwork()
        let approverHost = try TestNetwork()
        let server = try PostgresTestServer.dedicated(
            tcp: [workerHost, approverHost].map { (listen: $0.hostAddress, client: $0.serviceAddress) })
        defer { server.stop() }
        let database = try server.createDatabase("xapprove")
        let env = ["AIRLOCK_HOME": home.path, "USER": "ana"]
        let initialised = try CLI.run(["db", "init", "--database", server.url(database: database)], environment: env)
        try #require(initialised.status == 0, "\(initialised.stderr)")
        #expect(initialised.stdout.contains("airlock_approver: answers approvals"), "\(initialised.stdout)")

        // dataset-report under a policy that asks someone other than the principal for a large extract.
        let root = SampleSite.root.appendingPathComponent("manifests")
        let policy = home.appendingPathComponent("separating.yaml")
        try Data(
            try String(contentsOf: root.appendingPathComponent("policies/workflows.yaml"), encoding: .utf8)
                .replacingOccurrences(
                    of: "  - id: approval.large-extract\n    effect: require_approval\n",
                    with:
                        "  - id: approval.large-extract\n    effect: require_approval\n    approval: {separate_from_principal: true}\n"
                ).utf8
        ).write(to: policy)
        let workflow = home.appendingPathComponent("report.yaml")
        try Data(
            try String(contentsOf: root.appendingPathComponent("workflows/dataset-report.yaml"), encoding: .utf8)
                .replacingOccurrences(of: "policy: ../policies/workflows.yaml", with: "policy: \(policy.path)")
                .replacingOccurrences(of: "approval:\n  mode: ask", with: "approval:\n  mode: ask\n  timeout: 900")
                .utf8
        ).write(to: workflow)
        let model = home.appendingPathComponent("model.yaml")
        try Data(
            """
            responses:
              - tool_calls: [{name: sql.select, arguments: {query: "SELECT name FROM sites", max_rows: 200}}]
              - content: Done.

            """.utf8
        ).write(to: model)
        let worker = server.url(user: "airlock_worker", database: database)
        let submitted = try CLI.run(
            [
                "submit", workflow.path, "--param", "question=q", "--model", "script:" + model.path, "--run-id",
                "xapprove-1", "--database", worker,
            ], environment: env)
        try #require(submitted.status == 0, "\(submitted.stderr)")

        // The worker host: over TCP from its namespace, as the workers' role. Joined with
        // nsenter (the network namespace only), not `ip netns exec`, which mounts a sysfs of its
        // own without the cgroup hierarchy the sandbox confines the tool with.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        process.arguments = [
            "--net=/run/netns/\(workerHost.name)", CLI.binary.path, "worker", "--exit-when-idle", "--name", "host-a",
            "--poll-seconds", "0.1", "--database",
            server.url(user: "airlock_worker", database: database, host: workerHost.hostAddress),
        ]
        process.environment = [
            "AIRLOCK_HOME": home.path, "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": NSTemporaryDirectory(),
        ]
        let output = home.appendingPathComponent("worker.out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: output)
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        // The approver host: its own home, its own namespace, the approvers' role over TCP.
        let launcher = [TestNetwork.ipPath, "netns", "exec", approverHost.name]
        let approverURL = server.url(user: "airlock_approver", database: database, host: approverHost.hostAddress)
        func approvals(_ arguments: [String], user: String, database url: String = approverURL) throws -> CLIResult {
            try CLI.run(
                ["approvals"] + arguments + ["--database", url],
                environment: ["AIRLOCK_HOME": approverHome.path, "USER": user], launcher: launcher)
        }
        nonisolated(unsafe) var pending: [JSONValue] = []
        try await AgentFixture.waitUntil("the worker's run asks for an approval", seconds: 600) {
            let list = try approvals(["list", "--json"], user: "bob")
            pending = (try? JSONParser().parse(list.stdout).arrayValue) ?? []
            return !pending.isEmpty
        }
        let id = try #require(pending.first?["id"]?.stringValue)
        #expect(pending.first?["run_id"]?.stringValue == "xapprove-1")
        #expect(pending.first?["tool"]?.stringValue == "sql.select")
        let digest = try #require(pending.first?["arguments_sha256"]?.stringValue)

        // The workers' role cannot answer: the database refuses it (77), and it stays pending.
        let workerURL = server.url(user: "airlock_worker", database: database, host: approverHost.hostAddress)
        for verb in ["approve", "deny"] {
            let refused = try approvals([verb, id, "--reason", "mine"], user: "mallory", database: workerURL)
            #expect(refused.status == 77, "\(verb): \(refused.stdout)\(refused.stderr)")
            #expect(refused.stderr.contains("may not write that"), "\(verb): \(refused.stderr)")
        }
        // Nor may the principal approve her own run's request (separation of duties): 77.
        let own = try approvals(["approve", id], user: "ana")
        #expect(own.status == 77 && own.stderr.contains("someone other than"), "\(own.stderr)")
        let shown = try approvals(["show", id, "--json"], user: "bob")
        #expect((try JSONParser().parse(shown.stdout))["state"]?.stringValue == "pending", "\(shown.stdout)")

        let approved = try approvals(["approve", id, "--reason", "checked the query from host b"], user: "bob")
        #expect(approved.status == 0, "\(approved.stderr)")
        try await AgentFixture.waitUntil("the worker finished", seconds: 600) { !process.isRunning }
        let log = try String(contentsOf: output, encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(log)")
        #expect(log.contains("1 ran, 0 requeued, 0 abandoned, 0 lost"), "\(log)")

        let auditor = server.url(user: "airlock_auditor", database: database)
        let runs = try JSONParser().parse(
            try CLI.run(["runs", "show", "xapprove-1", "--json", "--database", auditor], environment: env).stdout)
        #expect(runs["state"]?.stringValue == "finished" && runs["status"]?.stringValue == "succeeded", "\(runs)")
        let verified = try CLI.run(["trace", "verify", "xapprove-1", "--database", auditor], environment: env)
        #expect(verified.status == 0 && verified.stdout.contains("intact"), "\(verified.stdout)\(verified.stderr)")
        let events = try JSONParser().parse(
            try CLI.run(["trace", "show", "xapprove-1", "--json", "--database", auditor], environment: env).stdout)
        let granted = events.arrayValue?.first { $0["type"]?.stringValue == "approval.granted" }
        #expect(granted?["payload"]?["approver"]?.stringValue == "bob", "\(String(describing: granted))")
        #expect(granted?["payload"]?["arguments_sha256"]?.stringValue == digest)
        #expect(
            events.arrayValue?.contains { $0["type"]?.stringValue == "tool.executed" } == true,
            "\(events.arrayValue?.map { "\($0["type"]?.stringValue ?? ""): \($0["payload"]?.canonicalString.prefix(300) ?? "")" } ?? [])"
        )
        // Who answered, as the database saw the login.
        #expect(
            try server.psql(
                "SELECT answered_by || ' ' || state FROM airlock.approval_answers WHERE request_id = '\(id)'",
                database: database
            ).trimmingCharacters(in: .whitespacesAndNewlines) == "airlock_approver granted")
    }
}
