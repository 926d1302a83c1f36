import Foundation
import Testing

@Suite("airlock trace, end to end", .serialized)
struct TraceCLITests {
    let home: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }

    init() throws {
        home = try CLI.temporaryDirectory("airlock-trace")
    }

    @Test func listShowVerifyAndExitCodes() throws {
        #expect(try CLI.run(["trace", "demo", "--run-id", "done"], environment: env).status == 0)
        #expect(try CLI.run(["trace", "demo", "--run-id", "died", "--unfinished"], environment: env).status == 0)

        let list = try CLI.run(["trace", "list"], environment: env)
        #expect(list.status == 0)
        #expect(list.stdout.contains("done") && list.stdout.contains("finished:succeeded"))
        #expect(list.stdout.contains("died") && list.stdout.contains("incomplete"))

        let finished = try CLI.run(["trace", "list", "--status", "succeeded"], environment: env)
        #expect(finished.stdout.contains("done") && !finished.stdout.contains("died"), "\(finished.stdout)")
        let unfinished = try CLI.run(["trace", "list", "--status", "incomplete", "--json"], environment: env)
        #expect(unfinished.stdout.contains("died") && !unfinished.stdout.contains("\"done\""))
        #expect(
            !(try CLI.run(["trace", "list", "--workflow", "nothing-like-it"], environment: env)).stdout.contains("done")
        )
        #expect(
            try CLI.run(["trace", "list", "--since", "2999-01-01"], environment: env).stdout.contains("done") == false)

        let show = try CLI.run(["trace", "show", "done"], environment: env)
        #expect(show.stdout.contains("policy.decision     ALLOW [c1] rules read-only: read-only tool"))
        #expect(show.stdout.contains("no degraded layers"))

        let verify = try CLI.run(["trace", "verify", "--all"], environment: env)
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("done: intact (8 events, signed through 8)"))
        #expect(verify.stdout.contains("died: incomplete (7 events, signed through 7, unsigned tail 0)"))
        #expect(try CLI.run(["trace", "verify", "--all", "--strict"], environment: env).status == 1)

        let missing = try CLI.run(["trace", "show", "nope"], environment: env)
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("no run 'nope'"))
    }

    @Test func exportImportGateRefusesTamperedAndUntrusted() throws {
        #expect(try CLI.run(["trace", "demo", "--run-id", "r1"], environment: env).status == 0)
        let exported = home.appendingPathComponent("r1.jsonl")
        #expect(
            try CLI.run(["trace", "export", "r1", "--format", "jsonl", "-o", exported.path], environment: env).status
                == 0)
        let pem = home.appendingPathComponent("producer.pem")
        try Data(try CLI.run(["trace", "key", "--export"], environment: env).stdout.utf8).write(to: pem)

        // A review enclave: its own AIRLOCK_HOME and key, trusting only the producer's key.
        let enclave = ["AIRLOCK_HOME": try CLI.temporaryDirectory("airlock-enclave").path]
        let text = try String(contentsOf: exported, encoding: .utf8)
        let tampered = home.appendingPathComponent("tampered.jsonl")
        try Data(text.replacing("400 matches", with: "401 matches").utf8).write(to: tampered)
        let refused = try CLI.run(["trace", "import", tampered.path, "--key", pem.path], environment: enclave)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("seq 7: payload-changed"))

        let untrusted = try CLI.run(["trace", "import", exported.path], environment: enclave)
        #expect(untrusted.status == 1)

        let accepted = try CLI.run(["trace", "import", exported.path, "--key", pem.path], environment: enclave)
        #expect(accepted.status == 0)
        #expect(accepted.stdout.contains("imported r1: intact"))
        #expect(try CLI.run(["trace", "verify", "r1", "--key", pem.path], environment: enclave).status == 0)

        let otel = try CLI.run(["trace", "export", "r1", "--format", "otel"], environment: env)
        #expect(otel.stdout.contains("\"resourceSpans\""))
        #expect(otel.stdout.contains("execute_tool grep"))
    }

    /// A child appends in a loop and is killed with SIGKILL at random moments; every prefix must
    /// verify (intact or incomplete, never broken).
    @Test func sigkillAtRandomMomentsLeavesVerifiablePrefixes() throws {
        let database = home.appendingPathComponent("crash.sqlite").path
        var generator = SystemRandomNumberGenerator()
        for round in 0..<15 {
            let process = Process()
            process.executableURL = CLI.helper
            process.arguments = ["append-loop", database]
            process.environment = env.merging(["PATH": "/usr/bin:/bin"]) { a, _ in a }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 20_000...250_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "round \(round)")

            let verify = try CLI.run(["trace", "verify", "--all", "--database", database], environment: env)
            #expect(verify.status == 0, "round \(round): \(verify.stdout) \(verify.stderr)")
            #expect(!verify.stdout.contains("broken"), "round \(round)")
        }
        let list = try CLI.run(["trace", "list", "--database", database], environment: env)
        #expect(list.stdout.contains("append-loop"))
    }
}
