import AirlockCore
import Foundation
import Testing

/// The reviewer's journey across two homes, through the built binary: a site records a run; a
/// review enclave in another home and another directory, with nothing registered and only the
/// site's public key trusted, imports it, verifies it, replays it identically, records a verdict,
/// and passes doctor's trace check.
@Suite("the reviewer's journey in a second home (CLI)", .serialized)
struct ReviewerJourneyTests {
    let site: ReplayCLITests
    let enclave: URL
    var enclaveEnv: [String: String] { ["AIRLOCK_HOME": enclave.path] }

    init() throws {
        site = try ReplayCLITests()
        enclave = try CLI.temporaryDirectory("airlock-enclave")
    }

    /// The site's run exported, and its public key, as files handed to the enclave.
    func handOver() throws -> (runID: String, export: URL, key: URL) {
        let runID = try site.recordRun()
        let outbox = try CLI.temporaryDirectory("airlock-outbox")
        let export = outbox.appendingPathComponent("run.jsonl")
        let exported = try CLI.run(
            ["trace", "export", runID, "--format", "jsonl", "-o", export.path], environment: site.env)
        try #require(exported.status == 0, "\(exported.stderr)")
        let key = try CLI.run(["trace", "key", "--export"], environment: site.env)
        let keyFile = outbox.appendingPathComponent("site-a.pem")
        try key.stdout.write(to: keyFile, atomically: true, encoding: .utf8)
        return (runID, export, keyFile)
    }

    @Test func importVerifyReplayReviewDoctor() throws {
        let (runID, export, key) = try handOver()
        let elsewhere = try CLI.temporaryDirectory("airlock-elsewhere")
        func enclave(_ arguments: [String]) throws -> CLIResult {
            try CLI.run(arguments, environment: enclaveEnv, currentDirectory: elsewhere)
        }
        // Without a trusted key nothing lands.
        let untrusted = try enclave(["trace", "import", export.path])
        #expect(untrusted.status != 0)
        #expect(try enclave(["trace", "list", "--json"]).stdout.contains(runID) == false)

        let trusted = try enclave(["trace", "trust", "add", key.path])
        #expect(trusted.status == 0, "\(trusted.stderr)")
        #expect(trusted.stdout.contains("as site-a"))
        #expect(try enclave(["trace", "trust", "list"]).stdout.contains("site-a"))

        let imported = try enclave(["trace", "import", export.path])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("imported \(runID): intact"))
        let again = try enclave(["trace", "import", export.path])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("already imported"))

        let verify = try enclave(["trace", "verify", runID])
        #expect(verify.status == 0 && verify.stdout.contains("intact"), "\(verify.stdout)")
        let all = try enclave(["trace", "verify", "--all"])
        #expect(all.status == 0, "\(all.stdout)")
        #expect(all.stdout.contains("ledger: intact"))

        // What a reviewer judges is on screen: the prompts, the model's text and calls, the output.
        let show = try enclave(["trace", "show", runID])
        #expect(show.stdout.hasPrefix("verified: \(runID): intact"), "\(show.stdout)")
        for expected in ["| system: ", "| user: ", "| call [", "| to the model: ", "| text: Payments timed out twice."]
        {
            #expect(show.stdout.contains(expected), "trace show lacks \(expected)")
        }

        // Nothing is registered here and there is no checkout: the trace alone drives the replay.
        let replay = try enclave(["replay", runID])
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.contains("replay identical"))

        let review = try enclave(["review", runID, "--verdict", "ok", "--note", "checked the triage"])
        #expect(review.status == 0, "\(review.stderr)")
        let doctor = try enclave(["doctor", "--json"])
        let checks = try JSONParser().parse(doctor.stdout)["checks"]?.arrayValue ?? []
        let trace = try #require(checks.first { $0["id"] == "trace-verifies" })
        #expect(trace["status"] == "pass", "\(trace)")
    }

    @Test func aTamperedExportIsRefusedAndNothingLands() throws {
        let (runID, export, key) = try handOver()
        #expect(try CLI.run(["trace", "trust", "add", key.path], environment: enclaveEnv).status == 0)
        let text = try String(contentsOf: export, encoding: .utf8)
        // The header's index (unsigned) is rewritten, then a payload.
        for tampered in [
            text.replacingOccurrences(of: #""workflow":"log-triage""#, with: #""workflow":"harmless""#),
            text.replacingOccurrences(of: "ledger timeouts", with: "all fine"),
        ] {
            #expect(tampered != text)
            let file = enclave.appendingPathComponent("tampered.jsonl")
            try tampered.write(to: file, atomically: true, encoding: .utf8)
            let result = try CLI.run(["trace", "import", file.path], environment: enclaveEnv)
            #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
            let list = try CLI.run(["trace", "list", "--json"], environment: enclaveEnv)
            #expect(!list.stdout.contains(runID))
        }
    }
}

/// The index is evidence: tampering with the `runs` table or deleting runs is detected.
@Suite("the trace index and ledger under tampering (CLI)", .serialized)
struct TraceIndexTamperTests {
    let site: ReplayCLITests
    var env: [String: String] { site.env }
    var database: String { (site.env["AIRLOCK_HOME"] ?? "") + "/trace.sqlite" }

    init() throws {
        site = try ReplayCLITests()
    }

    /// Runs SQL on the trace database with the sqlite3 shell, as someone who owns the file could.
    func sql(_ statement: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-bail", database, statement]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
    }

    @Test(arguments: [
        "UPDATE runs SET workflow = 'harmless'", "UPDATE runs SET principal = 'someone-else'",
        "UPDATE runs SET finished_status = 'failed'", "UPDATE runs SET started_ns = started_ns + 1",
    ])
    func rewritingAnyRunsColumnIsDetected(_ statement: String) throws {
        let runID = try site.recordRun()
        try sql(statement)
        let verify = try CLI.run(["trace", "verify", runID], environment: env)
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(verify.stdout.contains("index-changed"), "\(verify.stdout)")
        let show = try CLI.run(["trace", "show", runID], environment: env)
        #expect(show.stdout.hasPrefix("!! DOES NOT VERIFY"), "\(show.stdout)")
        let all = try CLI.run(["trace", "verify", "--all"], environment: env)
        #expect(all.status == 1)
        #expect(all.stdout.contains("ledger: TAMPERED"), "\(all.stdout)")
    }

    @Test func deletingARunOrOnlyItsRowIsDetected() throws {
        let first = try site.recordRun()
        let second = try site.recordRun()
        #expect(try CLI.run(["trace", "verify", "--all"], environment: env).status == 0)
        try sql(
            """
            DROP TRIGGER IF EXISTS events_append_only_d; DELETE FROM events WHERE run_id = '\(first)';
            DELETE FROM checkpoints WHERE run_id = '\(first)'; DELETE FROM runs WHERE run_id = '\(first)';
            """)
        let whole = try CLI.run(["trace", "verify", "--all"], environment: env)
        #expect(whole.status == 1)
        #expect(whole.stdout.contains("run \(first) is in the ledger but not in the trace"), "\(whole.stdout)")

        try sql("DELETE FROM runs WHERE run_id = '\(second)'")
        let row = try CLI.run(["trace", "verify", "--all"], environment: env)
        #expect(row.status == 1)
        #expect(row.stdout.contains("run \(second) is in the ledger but not in the trace"), "\(row.stdout)")
        let doctor = try CLI.run(["doctor", "--json"], environment: env)
        let checks = try JSONParser().parse(doctor.stdout)["checks"]?.arrayValue ?? []
        #expect(checks.first { $0["id"] == "trace-verifies" }?["status"] == "fail")
    }
}

/// A run killed with SIGKILL at any moment is signed through its last completed step.
@Suite("a run killed at any moment (CLI)", .serialized)
struct KilledRunTests {
    let base: RunCLITests
    var env: [String: String] { base.env }

    init() throws {
        base = try RunCLITests()
    }

    @Test func killedRunsAreSignedThroughTheirLastStep() throws {
        let model = try base.script(
            """
            responses:
              - tool_calls:
                  - {name: logs.search, arguments: {pattern: ERROR, max_matches: 20}}
              - tool_calls:
                  - {name: logs.search, arguments: {pattern: WARN, max_matches: 20}}
              - tool_calls:
                  - {name: workspace.note, arguments: {title: Log triage, text: "payments: 2 ledger timeouts"}}
              - content: "Payments timed out twice."
            """)
        // The moments are spread over the run's life; none is asserted on, each only picks when.
        let delays: [UInt32] = [0, 30_000, 80_000, 150_000, 250_000, 400_000, 700_000]
        var seen = 0
        for (index, delay) in delays.enumerated() {
            let runID = "killed-\(index)"
            let process = Process()
            process.executableURL = CLI.binary
            process.arguments = [
                "run", base.workflow, "--param", "level=ERROR", "--model", "script:" + model, "--quiet",
                "--run-id", runID,
            ]
            var environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
            for (k, v) in env { environment[k] = v }
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()

            let export = try CLI.run(["trace", "export", runID, "--format", "jsonl"], environment: env)
            guard export.status == 0 else { continue }  // killed before run.started was committed
            seen += 1
            let verify = try CLI.run(["trace", "verify", runID], environment: env)
            #expect(verify.status == 0, "\(verify.stdout)")
            #expect(!verify.stdout.contains("broken"), "\(verify.stdout)")
            let lines = try export.stdout.split(separator: "\n").map { try JSONParser().parse(Array($0.utf8)) }
            let signed = lines.filter { $0["kind"] == "checkpoint" }.compactMap { $0["seq"]?.integerValue }.max() ?? 0
            let boundaries: Set<String> = ["run.started", "model.response", "tool.result", "run.finished"]
            let lastBoundary =
                lines.compactMap { line -> Int64? in
                    guard line["kind"] == "event", let type = line["event"]?["type"]?.stringValue,
                        boundaries.contains(type)
                    else { return nil }
                    return line["event"]?["seq"]?.integerValue
                }.max() ?? 0
            #expect(signed >= lastBoundary, "\(runID): signed through \(signed), last step ends at \(lastBoundary)")
        }
        #expect(seen > 0)
    }
}
