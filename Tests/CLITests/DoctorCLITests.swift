import AirlockCore
import Foundation
import Testing

/// `airlock doctor` as a site runs it: the built binary, a temporary AIRLOCK_HOME with the sample
/// site, the shipped tools registered and one scripted run recorded; then each broken condition.
@Suite("airlock doctor (CLI)", .serialized)
struct DoctorCLITests {
    let home: URL
    /// How many tools `manifests/tools` ships (all registered).
    static var shippedTools: Int { SampleSite.toolManifests.count }
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }

    init() throws {
        home = try SampleSite.make("airlock-doctor-home")
        let script = home.appendingPathComponent("script.yaml")
        try Data(
            """
            responses:
              - tool_calls: [{name: logs.search, arguments: {pattern: ERROR, max_matches: 5}}]
              - content: "Two errors."
            """.utf8
        ).write(to: script)
        let workflow = SampleSite.root.appendingPathComponent("manifests/workflows/log-triage.yaml").path
        let run = try CLI.run(["run", workflow, "--model", "script:" + script.path], environment: env)
        try #require(run.status == 0, "\(run.stderr)")
    }

    /// The line of check `id` in the text report.
    func line(_ id: String, in output: String) -> String? {
        output.split(separator: "\n").map(String.init).first { $0.dropFirst(6).hasPrefix(id + " ") }
    }

    @Test func aGoodSetUpPasses() throws {
        let result = try CLI.run(["doctor"], environment: env)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(line("model-endpoint", in: result.stdout)?.hasPrefix("PASS  model-endpoint        unix:") == true)
        #expect(line("model-endpoint", in: result.stdout)?.hasSuffix("/run/model/llama.sock (a unix socket)") == true)
        #expect(
            line("tool-artefacts", in: result.stdout)
                == "PASS  tool-artefacts        \(Self.shippedTools) tools match their pinned digests")
        #expect(
            line("trace-verifies", in: result.stdout)
                == "PASS  trace-verifies        1 runs verify (1 intact, 0 incomplete)")
        #expect(line("key-permissions", in: result.stdout)?.hasPrefix("PASS") == true)
        #expect(line("proxy-telemetry-env", in: result.stdout)?.hasPrefix("PASS") == true)
        #expect(
            line("model-server-network", in: result.stdout)
                == "SKIP  model-server-network  the model server is not running")
        #expect(
            line("model-artefacts", in: result.stdout) == "WARN  model-artefacts       no embedded model is installed")
        #expect(result.stdout.contains("\n      \(home.path)/keys/trace-signing.ed25519 mode 0600 owner "))
        #expect(result.stdout.split(separator: "\n").last?.hasPrefix("summary: 11 checks; ") == true)

        let json = try CLI.run(["doctor", "--json"], environment: env)
        #expect(json.status == 0)
        let document = try JSONParser().parse(json.stdout)
        #expect(document["passed"] == .bool(true))
        #expect(document["checks"]?.arrayValue?.compactMap { $0["id"]?.stringValue }.count == 11)
    }

    @Test func aRemoteModelURLAndAProxyVariableFail() throws {
        let remote = try CLI.run(["doctor", "--model", "http://example.com"], environment: env)
        #expect(remote.status == 1)
        #expect(
            line("model-endpoint", in: remote.stdout)
                == "FAIL  model-endpoint        http://example.com is a remote endpoint (endpoint-refused)")
        #expect(remote.stdout.contains("failing: model-endpoint"))

        var proxied = env
        proxied["https_proxy"] = "http://ana:s3cr3t@proxy.example:3128"
        proxied["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector.example:4318"
        let result = try CLI.run(["doctor", "--json"], environment: proxied)
        #expect(result.status == 1)
        #expect(!result.stdout.contains("s3cr3t"))
        #expect(!result.stdout.contains("collector.example"))
        let document = try JSONParser().parse(result.stdout)
        let check = try #require(document["checks"]?.arrayValue?.first { $0["id"] == "proxy-telemetry-env" })
        #expect(check["status"] == "fail")
        #expect(check["summary"] == "set: OTEL_EXPORTER_OTLP_ENDPOINT, https_proxy (values not shown)")
    }

    @Test func aWorldReadableKeyFails() throws {
        let key = home.appendingPathComponent("keys/trace-signing.ed25519").path
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key)
        let result = try CLI.run(["doctor"], environment: env)
        #expect(result.status == 1)
        #expect(
            line("key-permissions", in: result.stdout)
                == "FAIL  key-permissions       \(key) mode 0644 allows more than 0600")
        #expect(result.stdout.contains("      remedy: chmod 600 \(key)"))
    }

    @Test func aToolWhoseExecutableChangedAfterRegistrationFails() throws {
        let objects = home.appendingPathComponent("tools/objects")
        let object = try #require(try FileManager.default.contentsOfDirectory(atPath: objects.path).first)
        let url = objects.appendingPathComponent(object)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n# changed after registration\n".utf8))
        try handle.close()
        let result = try CLI.run(["doctor"], environment: env)
        #expect(result.status == 1)
        let failed = try #require(line("tool-artefacts", in: result.stdout))
        #expect(failed.hasPrefix("FAIL  tool-artefacts        "))
        #expect(failed.contains(" of \(Self.shippedTools) tools drifted from their pins: "))
        #expect(result.stdout.contains("[digest-mismatch]"))
    }

    @Test func aTamperedTraceFails() throws {
        try SampleSite.tamperTrace(home, replacing: "ERROR", with: "ERR0R")
        let result = try CLI.run(["doctor"], environment: env)
        #expect(result.status == 1)
        let failed = try #require(line("trace-verifies", in: result.stdout))
        #expect(failed.hasPrefix("FAIL  trace-verifies        1 of 1 runs do not verify; first: "))
        #expect(result.stdout.contains("first failure: "))
        #expect(result.stdout.contains("payload-changed") || result.stdout.contains("broken at seq"))
    }
}
