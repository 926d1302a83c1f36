import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// docs/cli.md's exit-code tables, walked row by row: every documented code of every command is
/// produced through the built binary and compared, and every scenario here is a documented row.
/// A row that cannot be produced on a test machine is listed in ``unreproducible`` with why.
@Suite("docs/cli.md exit codes (CLI)", .serialized)
final class ExitCodeTableCLITests {
    let home: URL
    let scratch: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }

    init() throws {
        home = try SampleSite.make("airlock-exit-home")
        scratch = try CLI.temporaryDirectory("airlock-exit-scratch")
    }

    deinit {
        try? FileManager.default.removeItem(at: home)
        try? FileManager.default.removeItem(at: scratch)
    }

    /// One documented code: the section it is listed under, the command column (if any), the code.
    struct Row: Hashable, CustomStringConvertible {
        var section: String
        var command: String
        var code: String
        var key: String { [section, command, code].filter { !$0.isEmpty }.joined(separator: " ") }
        var description: String { key }
    }

    /// Every row of every table in docs/cli.md, a cell such as `0 / 1 / 66` giving one row per code.
    static func documentedRows() throws -> [Row] {
        let text = try String(contentsOf: SampleSite.root.appendingPathComponent("docs/cli.md"), encoding: .utf8)
        var rows: [Row] = []
        var section = "general"
        var header: [String] = []
        var command = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") {
                // "## `airlock run`" → "run"; several commands keep the first.
                let title = line.dropFirst(3).split(separator: ",").first.map(String.init) ?? ""
                section = title.replacingOccurrences(of: "`", with: "").replacingOccurrences(of: "airlock ", with: "")
                    .trimmingCharacters(in: .whitespaces)
                header = []
                continue
            }
            guard line.hasPrefix("|") else {
                header = []
                continue
            }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if header.isEmpty {
                header = cells
                command = ""
                continue
            }
            if cells.allSatisfy({ $0.allSatisfy { $0 == "-" } }) { continue }
            guard let codeColumn = header.firstIndex(of: "code") else { continue }
            if let commandColumn = header.firstIndex(of: "command"), !cells[commandColumn].isEmpty {
                command = cells[commandColumn].replacingOccurrences(of: "`", with: "")
            }
            for code in cells[codeColumn].split(separator: "/") {
                rows.append(Row(section: section, command: command, code: code.trimmingCharacters(in: .whitespaces)))
            }
        }
        return rows
    }

    /// Rows no test machine can produce on demand, and why.
    static let unreproducible: [String: String] = [
        "trace trust 74":
            "needs a trust store the test makes group-writable; TraceTrustStore refuses it (key-permissions)",
        "general 74": "needs a full disk or a read-only trace database under root (root writes anyway)",
        "run 74": "the same as the general 74: root can write a read-only trace database",
        "run 125": "needs the sandbox to fail for a tool after every check passed",
        "model install 0": "installs the real model (tools/test does, once per machine)",
        "model install 1": "needs an artefact that differs from its pin",
        "model install 65": "needs a malformed model archive",
        "model install 69": "needs the package index to be unreachable for a listed artefact",
        "model install 74": "needs a store that cannot be written (root writes anyway)",
        "model install 125": "needs the confined server build to fail",
        "model verify 0": "needs the installed model", "model verify 1": "needs a drifted model artefact",
        "model serve 0": "needs the installed model", "model serve 1": "needs a drifted model artefact",
        "model serve 69": "needs a server that keeps failing", "model serve 74": "needs the installed model",
        "model status 0": "needs the model serving", "model status 1": "needs the installed model",
        "replay 0": "covered by RunCLITests (replay identical)", "replay 74": "needs an unreadable trace as root",
        "doctor 0": "depends on the host's confinement layers (ModelCLITests and DoctorCLITests cover it)",
        "doctor 1": "depends on the host's confinement layers (DoctorCLITests covers it)",
        "approvals approvals approve 0":
            "needs a run waiting in the background (ApprovalsCLITests.anotherPersonApproves covers it)",
        "approvals approvals approve 77":
            "needs a run waiting in the background (ApprovalsCLITests.separationOfDuties covers it)",
        "approvals approvals deny 0":
            "needs a run waiting in the background (ApprovalsCLITests.anotherPersonDenies covers it)",
        "approvals approvals deny 77":
            "needs the site's PostgreSQL database and a worker's run waiting (ScaleApprovalsCLITests covers it)",
        "mcp serve 3": "needs an MCP client that keeps a session open past the workflow's wall budget",
        "mcp serve 4": "needs an MCP client that sends refused calls (MCPServeCLITests sends one)",
        "mcp serve 74": "the same as the general 74: root can write a read-only trace database",
    ]

    func file(_ name: String, _ text: String) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// A `kind: mcp` manifest in the scratch directory for `script` (copied beside it).
    func mcpServer(_ name: String, script: String, version: String, description: String = "Say hello.") throws
        -> String
    {
        let copy = scratch.appendingPathComponent("\(name)-\(version).sh")
        if !FileManager.default.fileExists(atPath: copy.path) {
            try FileManager.default.copyItem(at: URL(fileURLWithPath: script), to: copy)
        }
        return try file(
            "\(name)-\(version).yaml",
            """
            kind: mcp
            name: \(name)
            version: \(version)
            description: An MCP server for the exit-code table.
            owner: tests@example.org
            executable:
              path: \(copy.lastPathComponent)
            environment:
              DESCRIPTION: \(description)
            risk: low

            """)
    }

    var workflow: String { SampleSite.root.appendingPathComponent("manifests/workflows/log-triage.yaml").path }
    var manifests: String { SampleSite.root.appendingPathComponent("manifests").path }

    func run(_ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil) throws -> CLIResult {
        try CLI.run(arguments, environment: environment ?? env, stdin: stdin)
    }

    /// A scripted run, its id.
    func recordedRun(searching pattern: String? = nil) throws -> String {
        let call = pattern.map { "  - tool_calls: [{name: logs.search, arguments: {pattern: \($0)}}]\n" } ?? ""
        let script = try file("answer-\(UUID().uuidString.prefix(6)).yaml", "responses:\n\(call)  - content: Done.\n")
        let result = try run(["run", workflow, "--model", "script:" + script, "--json", "--quiet"])
        try #require(result.status == 0, "\(result.stderr)")
        return try #require(try JSONParser().parse(result.stdout)["run_id"]?.stringValue)
    }

    /// The id of a request no one answered: a run of dataset-report waiting 1 s for an approval.
    func expiredRequest() throws -> String {
        let shipped = SampleSite.root.appendingPathComponent("manifests/workflows/dataset-report.yaml")
        let policy = SampleSite.root.appendingPathComponent("manifests/policies/workflows.yaml").path
        let text = try String(contentsOf: shipped, encoding: .utf8)
            .replacingOccurrences(of: "policy: ../policies/workflows.yaml", with: "policy: \(policy)")
            .replacingOccurrences(of: "approval:\n  mode: ask", with: "approval:\n  mode: ask\n  timeout: 1")
        let workflow = try file("waiting-\(UUID().uuidString.prefix(6)).yaml", text)
        let script = try file(
            "large-\(UUID().uuidString.prefix(6)).yaml",
            "responses:\n  - tool_calls: [{name: sql.select, arguments: {query: SELECT 1, max_rows: 200}}]\n  - content: Done.\n"
        )
        let result = try run(["run", workflow, "--param", "question=q", "--model", "script:" + script, "--quiet"])
        try #require(result.status == 0, "\(result.stderr)")
        let list = try JSONParser().parse(try run(["approvals", "list", "--all", "--json"]).stdout)
        return try #require(list.arrayValue?.first?["id"]?.stringValue)
    }

    /// A run against a model that takes a minute to answer, sent `signal` while it waits.
    func signalledRun(_ signal: Int32) throws -> CLIResult {
        let server = try ChatTestServer(replies: [.completion(content: "too late", delaySeconds: 60)])
        defer { server.stop() }
        return try CLI.run(
            ["run", workflow, "--model", "unix:" + server.path], environment: env, signal: signal,
            when: "asking the model")
    }

    /// A fresh site database with `db init` done, as the workers' role, on the process's test cluster.
    func siteDatabase() throws -> String {
        let server = try PostgresTestServer.start()
        let name = try server.createDatabase("exit")
        let initialised = try run(["db", "init", "--database", server.url(database: name)])
        try #require(initialised.status == 0, "\(initialised.stderr)")
        return server.url(user: "airlock_worker", database: name)
    }

    /// A PostgreSQL URL nothing listens at.
    let nowhere = "postgres://airlock_worker@localhost/none?host=/nonexistent-airlock-socket&port=5432"

    /// A public key that signed none of this home's runs (another home's).
    func strangerKey() throws -> String {
        let other = try CLI.temporaryDirectory("airlock-exit-stranger")
        let pem = try CLI.run(["trace", "key", "--export"], environment: ["AIRLOCK_HOME": other.path]).stdout
        return try file("stranger-\(UUID().uuidString.prefix(6)).pem", pem)
    }

    /// A queued run's id in `database`.
    func submitted(_ database: String, runID: String? = nil) throws -> String {
        let result = try run(
            ["submit", workflow, "--param", "level=ERROR", "--database", database]
                + (runID.map { ["--run-id", $0] } ?? []))
        try #require(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// How each documented row is produced.
    func scenarios() throws -> [String: () throws -> CLIResult] {
        let badManifest = try file("bad.yaml", "name: Bad Name\n")
        let badPolicy = try file("bad-policy.yaml", "airlock_policy: 1\nname: x\nrules:\n  - {id: a, effect: permit}\n")
        let warnPolicy = try file(
            "warn-policy.yaml",
            "airlock_policy: 1\nname: x\nrules:\n  - {id: a, effect: forbid, when: {arguments: [{pointer: /p, regex: '-.*'}]}, reason: r, tags: [asi:02]}\n"
        )
        let policy = SampleSite.root.appendingPathComponent("manifests/policies/workflows.yaml").path
        func call(_ arguments: String) throws -> String {
            try file(
                "call-\(UUID().uuidString.prefix(6)).json",
                #"{"tool": "sql.select", "arguments": \#(arguments), "facts": {"name": "sql.select", "version": "1.0.0", "risk": "medium", "pinned_digest": "\#(String(repeating: "e", count: 64))", "current_digest": "\#(String(repeating: "e", count: 64))"}, "workflow_allowed_tools": ["sql.select"], "principal": {"user": "ana", "role": "analyst", "workflow": "dataset-report", "agent": "a"}}"#
            )
        }
        let denyingScript = try file(
            "denied.yaml",
            "responses:\n  - tool_calls: [{name: ghost.a, arguments: {}}, {name: ghost.b, arguments: {}}, {name: ghost.c, arguments: {}}]\n"
        )
        var loop = "responses:\n"
        for i in 0..<9 {
            // Each call its own (a repeated one would be answered from the record and end the
            // run as repeating first).
            loop +=
                i % 2 == 0
                ? "  - tool_calls: [{name: logs.search, arguments: {pattern: WARN, max_matches: \(i + 1)}}]\n"
                : "  - tool_calls: [{name: workspace.note, arguments: {text: step \(i)}}]\n"
        }
        let budgetScript = try file("budget.yaml", loop)
        let repeatCall = "  - tool_calls: [{name: logs.search, arguments: {pattern: ERROR}}]\n"
        let repeatingScript = try file("repeating.yaml", "responses:\n" + String(repeating: repeatCall, count: 4))
        let badScript = try file("bad-script.yaml", "responses: 7\n")
        let noModelHome = try CLI.temporaryDirectory("airlock-exit-nomodel")
        let mcpProfile = try file(
            "profile.yaml", "airlock_mcp_profile: 1\nname: triage\nworkflow: \(workflow)\nprincipal: ana\n")
        let badProfile = try file("bad-profile.yaml", "airlock_mcp_profile: 1\nname: triage\n")
        return [
            "general 0": { try self.run(["sandbox", "run", "--", "/bin/true"]) },
            "trace copy trace copy 0": {
                // Only its own run: other rows tamper with runs of the same home on purpose.
                let run = try self.recordedRun()
                return try self.run([
                    "trace", "copy", "--from", self.home.appendingPathComponent("trace.sqlite").path, "--to",
                    "sqlite:" + self.scratch.appendingPathComponent("copy-\(UUID().uuidString.prefix(6)).sqlite").path,
                    "--run", run,
                ])
            },
            "trace copy trace copy 1": {
                _ = try self.recordedRun()
                return try self.run([
                    "trace", "copy", "--from", self.home.appendingPathComponent("trace.sqlite").path, "--to",
                    self.scratch.appendingPathComponent("copy-\(UUID().uuidString.prefix(6)).sqlite").path, "--key",
                    try self.strangerKey(),
                ])
            },
            "trace copy trace copy 64": {
                try self.run(["trace", "copy", "--from", "mysql://u@h/db", "--to", "x.sqlite"])
            },
            "trace copy trace copy 66": {
                try self.run(["trace", "copy", "--from", "/nonexistent/trace.sqlite", "--to", "x.sqlite"])
            },
            "trace copy trace copy 74": {
                _ = try self.recordedRun()
                return try self.run([
                    "trace", "copy", "--from", self.home.appendingPathComponent("trace.sqlite").path, "--to",
                    self.nowhere,
                ])
            },
            "trace copy db init 0": {
                let server = try PostgresTestServer.start()
                return try self.run([
                    "db", "init", "--database", server.url(database: try server.createDatabase("exit")),
                ])
            },
            "trace copy db init 64": { try self.run(["db", "init", "--database", "sqlite:/tmp/x.sqlite"]) },
            "trace copy db init 74": { try self.run(["db", "init", "--database", self.nowhere]) },
            "trace copy submit 0": { try self.run(["submit", self.workflow, "--database", try self.siteDatabase()]) },
            "trace copy submit 1": {
                let database = try self.siteDatabase()
                _ = try self.submitted(database, runID: "taken")
                return try self.run(["submit", self.workflow, "--database", database, "--run-id", "taken"])
            },
            "trace copy submit 64": { try self.run(["submit", self.workflow]) },
            "trace copy submit 74": { try self.run(["submit", self.workflow, "--database", self.nowhere]) },
            "trace copy worker 0": {
                try self.run(["worker", "--exit-when-idle", "--database", try self.siteDatabase()])
            },
            "trace copy worker 64": { try self.run(["worker", "--lease-seconds", "0", "--database", self.nowhere]) },
            "trace copy worker 74": { try self.run(["worker", "--database", self.nowhere]) },
            "trace copy runs list 0": { try self.run(["runs", "list", "--database", try self.siteDatabase()]) },
            "trace copy runs list 64": {
                try self.run(["runs", "list", "--state", "lost", "--database", self.nowhere])
            },
            "trace copy runs list 74": { try self.run(["runs", "list", "--database", self.nowhere]) },
            "trace copy runs show 0": {
                let database = try self.siteDatabase()
                return try self.run(["runs", "show", try self.submitted(database), "--database", database])
            },
            "trace copy runs show 66": {
                try self.run(["runs", "show", "nope", "--database", try self.siteDatabase()])
            },
            "trace copy runs cancel 0": {
                let database = try self.siteDatabase()
                return try self.run(["runs", "cancel", try self.submitted(database), "--database", database])
            },
            "trace copy runs cancel 1": {
                let database = try self.siteDatabase()
                let id = try self.submitted(database)
                _ = try self.run(["runs", "cancel", id, "--database", database])
                return try self.run(["runs", "cancel", id, "--database", database])
            },
            "trace copy runs cancel 66": {
                try self.run(["runs", "cancel", "nope", "--database", try self.siteDatabase()])
            },
            "general 1": { try self.run(["policy", "lint", warnPolicy]) },
            "general 2": {
                try self.run([
                    "policy", "check", "--policy", policy, "--call", call(#"{"query": "SELECT 1", "max_rows": 300}"#),
                ])
            },
            "general 64": { try self.run(["sandbox", "run", "--no-such-flag", "--", "/bin/true"]) },
            "general 65": { try self.run(["tools", "add", badManifest]) },
            "general 66": { try self.run(["tools", "add", "/nonexistent/manifest.yaml"]) },
            "general 125": { try self.run(["sandbox", "run", "--", "/nonexistent/program"]) },
            // The program is PID 1 of its namespace, which a signal from inside cannot kill: the
            // wall-time limit's SIGKILL does.
            "general 128+N": { try self.run(["sandbox", "run", "--timeout", "0.5", "--", "sleep", "30"]) },
            "general other": { try self.run(["sandbox", "run", "--", "/bin/sh", "-c", "exit 7"]) },
            "tools tools add 0": {
                try self.run([
                    "tools", "add", SampleSite.root.appendingPathComponent("manifests/tools/sql.select.yaml").path,
                ])
            },
            "tools tools add 65": { try self.run(["tools", "add", badManifest]) },
            "tools tools add 66": { try self.run(["tools", "add", "/nonexistent.yaml"]) },
            "tools tools add 1": {
                let first = try self.mcpServer("tiny", script: MCPPeer.script("tiny_server.sh"), version: "1.0.0")
                try #require(try self.run(["tools", "add", "--pin", first]).status == 0)
                // The server's tool described otherwise: refused until --accept-changes.
                return try self.run([
                    "tools", "add", "--pin",
                    try self.mcpServer(
                        "tiny", script: MCPPeer.script("tiny_server.sh"), version: "1.0.1", description: "Say more."),
                ])
            },
            "tools tools add 69": {
                let quit = try self.file("quit.sh", "#!/bin/sh\necho 'not an MCP server' >&2\n")
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: quit)
                return try self.run([
                    "tools", "add", "--pin", try self.mcpServer("quit", script: quit, version: "1.0.0"),
                ])
            },
            "tools tools add 125": {
                let missing = try self.file("interpreter.sh", "#!/nonexistent/interpreter\n")
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: missing)
                return try self.run([
                    "tools", "add", "--pin", try self.mcpServer("nointerpreter", script: missing, version: "1.0.0"),
                ])
            },
            "tools tools lint 0": {
                try self.run([
                    "tools", "lint", SampleSite.root.appendingPathComponent("manifests/tools/sql.select.yaml").path,
                ])
            },
            "tools tools lint 65": { try self.run(["tools", "lint", badManifest]) },
            "tools tools lint 66": { try self.run(["tools", "lint", "/nonexistent.yaml"]) },
            "tools policy lint 0": { try self.run(["policy", "lint", policy]) },
            "tools policy lint 1": { try self.run(["policy", "lint", warnPolicy]) },
            "tools policy lint 65": { try self.run(["policy", "lint", badPolicy]) },
            "tools policy lint 66": { try self.run(["policy", "lint", "/nonexistent.yaml"]) },
            "tools policy check 0": {
                try self.run([
                    "policy", "check", "--policy", policy, "--call", call(#"{"query": "SELECT 1", "max_rows": 10}"#),
                ])
            },
            "tools policy check 1": {
                try self.run([
                    "policy", "check", "--policy", policy, "--call", call(#"{"query": "DELETE FROM items"}"#),
                ])
            },
            "tools policy check 2": {
                try self.run([
                    "policy", "check", "--policy", policy, "--call", call(#"{"query": "SELECT 1", "max_rows": 300.0}"#),
                ])
            },
            "tools trace import 0": {
                let id = try self.recordedRun()
                let export = try self.run(["trace", "export", id, "--format", "jsonl"])
                let path = try self.file("export.jsonl", export.stdout)
                let other = try CLI.temporaryDirectory("airlock-exit-import")
                return try self.run([
                    "trace", "import", path, "--database", other.appendingPathComponent("t.sqlite").path,
                ])
            },
            "tools trace import 1": {
                let id = try self.recordedRun()
                let export = try self.run(["trace", "export", id, "--format", "jsonl"])
                let tampered = export.stdout.replacingOccurrences(of: "ERROR", with: "ERR0R")
                return try self.run(["trace", "import", try self.file("tampered.jsonl", tampered)])
            },
            "tools trace import 65": { try self.run(["trace", "import", badManifest]) },
            "tools trace import 66": { try self.run(["trace", "import", "/nonexistent.jsonl"]) },
            "run 0": {
                try self.run([
                    "run", self.workflow, "--model",
                    "script:" + (try self.file("ok.yaml", "responses:\n  - content: ok\n")),
                ])
            },
            "run 3": { try self.run(["run", self.workflow, "--model", "script:" + budgetScript]) },
            "run 4": { try self.run(["run", self.workflow, "--model", "script:" + denyingScript]) },
            "run 5": { try self.run(["run", self.workflow, "--model", "script:" + repeatingScript]) },
            "run 6": {
                try self.run([
                    "run", self.workflow, "--model",
                    "script:"
                        + (try self.file(
                            "looping.yaml",
                            "responses:\n  - content: '\(String(repeating: "It failed. ", count: 20))'\n")),
                ])
            },
            // A slow model, and the signal once the request is out (HonestRunCLITests does the
            // same on a real terminal).
            "run 130": { try self.signalledRun(SIGINT) },
            "run 143": { try self.signalledRun(SIGTERM) },
            "run 64": { try self.run(["run", self.workflow, "--tool-calling", "magic"]) },
            "run 65": { try self.run(["run", self.workflow, "--model", "script:" + badScript]) },
            "run 66": { try self.run(["run", "/nonexistent/workflow.yaml"]) },
            "run 69": {
                // A valid workflow in a home with its tools, and no model installed.
                try self.run(
                    ["run", self.workflow],
                    environment: ["AIRLOCK_HOME": self.home.path, "AIRLOCK_MODEL_HOME": noModelHome.path])
            },
            "model verify 66": {
                try self.run(
                    ["model", "verify"],
                    environment: ["AIRLOCK_HOME": noModelHome.path, "AIRLOCK_MODEL_HOME": noModelHome.path])
            },
            "model serve 66": {
                try self.run(
                    ["model", "serve"],
                    environment: ["AIRLOCK_HOME": noModelHome.path, "AIRLOCK_MODEL_HOME": noModelHome.path])
            },
            "model status 66": {
                try self.run(
                    ["model", "status"],
                    environment: ["AIRLOCK_HOME": noModelHome.path, "AIRLOCK_MODEL_HOME": noModelHome.path])
            },
            "model install 66": {
                try self.run(
                    ["model", "install", "--lock", "/nonexistent.lock"],
                    environment: ["AIRLOCK_HOME": noModelHome.path, "AIRLOCK_MODEL_HOME": noModelHome.path])
            },
            "secrets 0": { try self.run(["secrets", "set", "EXIT_TEST"], stdin: "a-long-enough-value") },
            "secrets 1": {
                let key = try self.run(["secrets", "token-key", "--export"])
                return try self.run([
                    "secrets", "token", "verify", "bm90LWEtdG9rZW4.c2ln", "--key", try self.file("key.pem", key.stdout),
                ])
            },
            "secrets 64": { try self.run(["secrets", "set", "bad name!"], stdin: "a-long-enough-value") },
            "secrets 65": {
                let other = try CLI.temporaryDirectory("airlock-exit-corrupt")
                let otherEnv = ["AIRLOCK_HOME": other.path]
                _ = try self.run(["secrets", "set", "CORRUPT_ME"], stdin: "a-long-enough-value", environment: otherEnv)
                let store = other.appendingPathComponent("secrets/store.sealed")
                try Data("not a sealed store".utf8).write(to: store)
                return try self.run(["secrets", "list"], environment: otherEnv)
            },
            "secrets 66": { try self.run(["secrets", "remove", "NO_SUCH_SECRET"]) },
            "secrets 74": {
                let other = try CLI.temporaryDirectory("airlock-exit-secrets")
                let otherEnv = ["AIRLOCK_HOME": other.path]
                _ = try self.run(["secrets", "set", "OPEN_STORE"], stdin: "a-long-enough-value", environment: otherEnv)
                try FileManager.default.setAttributes(
                    [.posixPermissions: 0o644], ofItemAtPath: other.appendingPathComponent("secrets/store.sealed").path)
                return try self.run(["secrets", "list"], environment: otherEnv)
            },
            "replay 1": {
                try self.run([
                    "trace", "diff", try self.recordedRun(searching: "ERROR"), try self.recordedRun(searching: "WARN"),
                ])
            },
            "replay 64": { try self.run(["replay"]) },
            "replay 65": { try self.run(["review", try self.recordedRun(), "--verdict", "ok", "--note", ""]) },
            "replay 66": { try self.run(["replay", "no-such-run"]) },
            "approvals approvals list 0": { try self.run(["approvals", "list"]) },
            // A session whose client closes stdin at once: the run starts and ends `succeeded`.
            "mcp serve 0": { try self.run(["mcp", "serve", "--profile", mcpProfile]) },
            "mcp serve 64": { try self.run(["mcp", "serve", "--profile", "bad name"]) },
            "mcp serve 65": { try self.run(["mcp", "serve", "--profile", badProfile]) },
            "mcp serve 66": { try self.run(["mcp", "serve", "--profile", "no-such-profile"]) },
            "approvals approvals list 74": {
                let broken = try CLI.temporaryDirectory("airlock-exit-approvals")
                try Data("not a database, not at all".utf8).write(to: broken.appendingPathComponent("approvals.sqlite"))
                return try self.run(["approvals", "list"], environment: ["AIRLOCK_HOME": broken.path])
            },
            "approvals approvals show 0": { try self.run(["approvals", "show", try self.expiredRequest()]) },
            "approvals approvals show 66": { try self.run(["approvals", "show", "000000000000"]) },
            "approvals approvals approve 1": { try self.run(["approvals", "approve", try self.expiredRequest()]) },
            "approvals approvals approve 64": {
                try self.run(["approvals", "approve", "000000000000", "--scope", "forever"])
            },
            "approvals approvals approve 66": { try self.run(["approvals", "approve", "000000000000"]) },
            "approvals approvals deny 1": {
                try self.run(["approvals", "deny", try self.expiredRequest(), "--reason", "late"])
            },
            "approvals approvals deny 64": { try self.run(["approvals", "deny", "000000000000"]) },
            "approvals approvals deny 66": {
                try self.run(["approvals", "deny", "000000000000", "--reason", "no such request"])
            },
            "trace trust 0": { try self.run(["trace", "trust", "list"]) },
            "trace trust 65": { try self.run(["trace", "trust", "add", try self.file("not-a-key.pem", "hello")]) },
            "trace trust 66": { try self.run(["trace", "trust", "add", "/nonexistent.pem"]) },
            "doctor 74": {
                try self.run(["doctor"], environment: ["AIRLOCK_HOME": "/dev/null/airlock"])
            },
        ].merging(try checkingScenarios()) { first, _ in first }.merging(try evalScenarios()) { first, _ in first }
            .merging(try consoleScenarios()) { first, _ in first }
    }

    /// `airlock eval`: the rows of its section, over a one-task suite and its oracle.
    func evalScenarios() throws -> [String: () throws -> CLIResult] {
        _ = try file("eval-oracle.yaml", "responses:\n  - content: The payments ledger timed out.\n")
        func suite(_ checks: String) throws -> String {
            try file(
                "suite-\(UUID().uuidString.prefix(6)).yaml",
                "airlock_eval: 1\nname: s\ntasks:\n  - {id: t, workflow: \(self.workflow), oracle: eval-oracle.yaml, checks: \(checks)}\n"
            )
        }
        let passing = try suite("{answer_contains: [ledger]}")
        let failing = try suite("{answer_contains: [auth]}")
        let malformed = try file("bad-suite.yaml", "airlock_eval: 2\nname: s\ntasks: []\n")
        let noModelHome = try CLI.temporaryDirectory("airlock-exit-eval-nomodel")
        let broken = try CLI.temporaryDirectory("airlock-exit-eval-broken")
        try Data("not a database".utf8).write(to: broken.appendingPathComponent("trace.sqlite"))
        return [
            "eval 0": { try self.run(["eval", passing, "--model", "oracle"]) },
            "eval 1": { try self.run(["eval", failing, "--model", "oracle"]) },
            "eval 64": { try self.run(["eval", passing, "--model", "oracle", "--repeat", "0"]) },
            "eval 65": { try self.run(["eval", malformed]) },
            "eval 66": { try self.run(["eval", "/nonexistent/suite.yaml"]) },
            "eval 69": {
                try self.run(
                    ["eval", passing],
                    environment: ["AIRLOCK_HOME": self.home.path, "AIRLOCK_MODEL_HOME": noModelHome.path])
            },
            "eval 74": {
                try self.run(["eval", passing, "--model", "oracle"], environment: ["AIRLOCK_HOME": broken.path])
            },
        ]
    }

    /// `console` and `trace report`: the rows of their section.
    func consoleScenarios() throws -> [String: () throws -> CLIResult] {
        let report = scratch.appendingPathComponent("report.html").path
        return [
            "console console 0": {
                let console = try ConsoleProcess(["--listen", "127.0.0.1:0"], environment: self.env)
                _ = try console.origin()
                let status = console.stop()
                return CLIResult(status: status, stdout: console.stdout, stderr: console.stderr)
            },
            "console console 64": { try self.run(["console", "--listen", "192.0.2.1:8080"]) },
            "console console 65": {
                let site = try CLI.temporaryDirectory("airlock-exit-site")
                try Data("console_listen: 8080\n".utf8).write(to: site.appendingPathComponent("site.yaml"))
                return try self.run(["console"], environment: ["AIRLOCK_HOME": site.path])
            },
            "console console 74": { try self.run(["console", "--listen", "unix:/dev/null/console.sock"]) },
            "console trace report 0": { try self.run(["trace", "report", try self.recordedRun(), "-o", report]) },
            "console trace report 1": {
                let id = try self.recordedRun(searching: "WARN")
                try SampleSite.tamperTrace(self.home, replacing: "WARN", with: "W4RN")
                return try self.run(["trace", "report", id, "-o", report])
            },
            "console trace report 66": { try self.run(["trace", "report", "no-such-run", "-o", report]) },
            "console trace report 74": {
                try self.run(["trace", "report", try self.recordedRun(), "-o", "/nonexistent/report.html"])
            },
        ]
    }

    /// `workflow lint`, `run --dry-run` and `workspaces`: the rows of their section.
    func checkingScenarios() throws -> [String: () throws -> CLIResult] {
        let troubled = try file(
            "troubled.yaml",
            "airlock_workflow: 1\nname: t\ndescription: d\nsystem_prompt: s\ntask: t\ntools: [ghost.tool]\npolicy: nowhere.yaml\n"
        )
        let script = try file("dry.yaml", "responses:\n  - content: never asked\n")
        // A home whose registry, trace and workspaces directory are not what they must be.
        let broken = try CLI.temporaryDirectory("airlock-exit-broken")
        for name in ["registry.sqlite", "trace.sqlite", "workspaces"] {
            try Data("not what it should be".utf8).write(to: broken.appendingPathComponent(name))
        }
        let brokenEnv = ["AIRLOCK_HOME": broken.path]
        return [
            "workflow workflow lint 0": { try self.run(["workflow", "lint", self.workflow]) },
            "workflow workflow lint 65": { try self.run(["workflow", "lint", troubled]) },
            "workflow workflow lint 66": { try self.run(["workflow", "lint", "/nonexistent/workflow.yaml"]) },
            "workflow workflow lint 74": {
                try self.run(["workflow", "lint", self.workflow], environment: brokenEnv)
            },
            "workflow run --dry-run 0": {
                try self.run(["run", self.workflow, "--dry-run", "--model", "script:" + script])
            },
            "workflow run --dry-run 64": { try self.run(["run", self.workflow, "--dry-run", "--param", "level"]) },
            "workflow run --dry-run 65": {
                try self.run(["run", troubled, "--dry-run", "--model", "script:" + script])
            },
            "workflow run --dry-run 66": { try self.run(["run", "/nonexistent/workflow.yaml", "--dry-run"]) },
            "workflow run --dry-run 74": {
                try self.run(
                    ["run", self.workflow, "--dry-run", "--model", "script:" + script], environment: brokenEnv)
            },
            "workflow workspaces list 0": { try self.run(["workspaces", "list"]) },
            "workflow workspaces list 74": { try self.run(["workspaces", "list"], environment: brokenEnv) },
            "workflow workspaces show 0": { try self.run(["workspaces", "show", try self.recordedRun()]) },
            "workflow workspaces show 66": { try self.run(["workspaces", "show", "no-such-run"]) },
            "workflow workspaces show 74": { try self.run(["workspaces", "show", "x"], environment: brokenEnv) },
            "workflow workspaces prune 0": { try self.run(["workspaces", "prune", "--dry-run"]) },
            "workflow workspaces prune 64": { try self.run(["workspaces", "prune", "--older-than", "soon"]) },
            "workflow workspaces prune 74": { try self.run(["workspaces", "prune"], environment: brokenEnv) },
        ]
    }

    @Test func aReviewOfARunThatDoesNotVerifySaysTheReviewWasRefused() throws {
        let id = try recordedRun(searching: "ERROR")
        try SampleSite.tamperTrace(home, replacing: "ERROR", with: "ERR0R")
        let review = try run(["review", id, "--verdict", "ok", "--note", "looks fine"])
        #expect(review.status == 65, "\(review.stderr)")
        #expect(review.stderr.contains("review refused"), "\(review.stderr)")
        #expect(!review.stderr.contains("replay refused"))
    }

    @Test func everyDocumentedCodeIsWhatTheBinaryExitsWith() throws {
        let rows = try Self.documentedRows()
        try #require(rows.count > 40, "docs/cli.md's tables were not found: \(rows)")
        let scenarios = try scenarios()
        let documented = Set(rows.map(\.key))
        // Both ways: a scenario for an undocumented code means the docs lost a row.
        for key in scenarios.keys.sorted() { #expect(documented.contains(key), "\(key) is not in docs/cli.md") }
        for key in Self.unreproducible.keys.sorted() {
            #expect(documented.contains(key), "\(key) is not in docs/cli.md")
        }
        for row in rows {
            guard let scenario = scenarios[row.key] else {
                #expect(Self.unreproducible[row.key] != nil, "docs/cli.md lists \(row.key) and no test produces it")
                continue
            }
            let result = try scenario()
            let expected: Int32? =
                switch row.code {
                case "128+N": 137
                case "other": 7
                default: Int32(row.code)
                }
            #expect(
                result.status == expected, "\(row.key): exited \(result.status)\n\(result.stdout)\n\(result.stderr)")
            // No platform error dumps: errors say what failed in words.
            #expect(!result.stderr.contains("NSCocoaErrorDomain"), "\(row.key): \(result.stderr)")
        }
    }
}
