import AirlockCore
import Foundation
import ModelRuntime
import Sandbox
import Testing
import Tools

@testable import Doctor
@testable import Trace

#if canImport(Glibc)
    import Glibc
#endif

/// Each check through real files, a real registry, a real trace database and the real sandbox:
/// passing on a good set-up, failing with the right finding for each broken condition.
@Suite("Doctor checks")
struct DoctorTests {
    static var sandboxAvailable: Bool {
        SandboxProbe.current.features.first { $0.name == "all-namespaces" }?.available ?? false
    }

    // MARK: model-endpoint

    @Test func theEmbeddedSocketALoopbackAndAListedHostPass() throws {
        var fixture = try DoctorFixture()
        let embedded = fixture.doctor.modelEndpoint()
        #expect(embedded.status == .pass)
        #expect(embedded.summary == "unix:\(fixture.home.path)/run/model/llama.sock (a unix socket)")

        fixture.modelEndpoint = "http://127.0.0.1:8080"
        #expect(fixture.doctor.modelEndpoint().summary == "http://127.0.0.1:8080/v1/chat/completions (loopback)")

        try fixture.write("model_hosts: [models.internal]\n", to: fixture.home.appendingPathComponent("site.yaml"))
        fixture.modelEndpoint = "http://models.internal:9000"
        let listed = fixture.doctor.modelEndpoint()
        #expect(listed.status == .pass)
        #expect(listed.summary.contains("models.internal is listed under model_hosts"))
        #expect(listed.evidence.contains { $0.contains("model_hosts in") && $0.contains("models.internal") })
    }

    @Test func aRemoteURLFailsNamingIt() throws {
        var fixture = try DoctorFixture()
        fixture.modelEndpoint = "http://example.com"
        let check = fixture.doctor.modelEndpoint()
        #expect(check.status == .fail)
        #expect(check.summary == "http://example.com is a remote endpoint (endpoint-refused)")
        #expect(check.remedy?.contains("model_hosts") == true)

        fixture.modelEndpoint = "ftp://x"
        #expect(fixture.doctor.modelEndpoint().summary == "ftp://x is not an endpoint")
    }

    @Test func anUnreadableSiteFileFailsNamingTheField() throws {
        let fixture = try DoctorFixture()
        try fixture.write("model_hosts: models.internal\n", to: fixture.home.appendingPathComponent("site.yaml"))
        let check = fixture.doctor.modelEndpoint()
        #expect(check.status == .fail)
        #expect(check.evidence.contains { $0.contains("/model_hosts") })
    }

    // MARK: proxy-telemetry-env

    @Test func proxyAndTelemetryVariablesAreNamedNeverShown() throws {
        var fixture = try DoctorFixture()
        #expect(fixture.doctor.proxyTelemetryEnvironment().status == .pass)
        let value = "http://user:hunter2@proxy.example:3128"
        fixture.environment["HTTPS_PROXY"] = value
        fixture.environment["no_proxy"] = "localhost"
        fixture.environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = value
        fixture.environment["HF_HUB_OFFLINE"] = "0"
        fixture.environment["SENTRY_DSN"] = value
        fixture.environment["PROXYLESS"] = "1"
        let check = fixture.doctor.proxyTelemetryEnvironment()
        #expect(check.status == .fail)
        #expect(
            check.summary
                == "set: HF_HUB_OFFLINE, HTTPS_PROXY, OTEL_EXPORTER_OTLP_ENDPOINT, SENTRY_DSN, no_proxy (values not shown)"
        )
        let report = DoctorReport(checks: [check])
        #expect(!report.text.contains("hunter2"))
        #expect(!report.json.canonicalString.contains("hunter2"))
    }

    // MARK: key-permissions

    @Test func privateKeysPassAndAWorldReadableKeyFails() throws {
        let fixture = try DoctorFixture()
        let key = try fixture.write("00", to: fixture.keys.appendingPathComponent("trace-signing.ed25519"))
        try fixture.write("00", to: fixture.keys.appendingPathComponent("secrets.key"), mode: 0o400)
        try fixture.write("sealed", to: fixture.secrets.appendingPathComponent("db-password"))
        let good = fixture.doctor.keyPermissions()
        #expect(good.status == .pass, "\(good.evidence)")
        #expect(good.evidence.contains("\(key.path) mode 0600 owner \(geteuid()) (file)"))

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key.path)
        let bad = fixture.doctor.keyPermissions()
        #expect(bad.status == .fail)
        #expect(bad.summary == "\(key.path) mode 0644 allows more than 0600")
        #expect(bad.remedy == "chmod 600 \(key.path)")
    }

    @Test func anOpenSecretStoreAGroupWritableHomeAndAForeignOwnerFail() throws {
        let fixture = try DoctorFixture()
        try fixture.write("sealed", to: fixture.secrets.appendingPathComponent("db-password"))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fixture.secrets.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o775], ofItemAtPath: fixture.home.path)
        let check = fixture.doctor.keyPermissions()
        #expect(check.status == .fail)
        #expect(check.summary.contains("\(fixture.home.path) is writable by group or others"))
        #expect(check.summary.contains("\(fixture.secrets.path) mode 0755 allows more than 0700"))
        if geteuid() == 0 {
            try FileManager.default.setAttributes([.posixPermissions: 0o711], ofItemAtPath: fixture.home.path)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: fixture.secrets.path)
            let file = fixture.secrets.appendingPathComponent("db-password").path
            #expect(chown(file, 12345, 12345) == 0)
            #expect(fixture.doctor.keyPermissions().summary == "\(file) owned by uid 12345, not 0")
        }
    }

    @Test func aSymlinkedKeyFails() throws {
        let fixture = try DoctorFixture()
        let target = try fixture.write("00", to: fixture.home.appendingPathComponent("elsewhere"))
        try FileManager.default.createDirectory(at: fixture.keys, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: fixture.keys.path)
        try FileManager.default.createSymbolicLink(
            atPath: fixture.keys.appendingPathComponent("token-signing.key").path, withDestinationPath: target.path)
        let check = fixture.doctor.keyPermissions()
        #expect(check.status == .fail)
        #expect(check.summary.contains("token-signing.key is a symbolic link"))
    }

    // MARK: model-artefacts

    @Test func noModelIsAWarningAndDriftIsAFailure() throws {
        var fixture = try DoctorFixture()
        let none = fixture.doctor.modelArtefacts()
        #expect(none.status == .warn)
        #expect(none.summary == "no embedded model is installed")

        try fixture.installModel()
        let good = fixture.doctor.modelArtefacts()
        #expect(good.status == .pass, "\(good.evidence)")
        #expect(good.summary == "4 artefacts match their pins (tiny)")

        fixture.checkoutLock = try fixture.write(
            "version: 1\n", to: fixture.home.appendingPathComponent("checkout/models.lock"), mode: 0o644)
        #expect(fixture.doctor.modelArtefacts().status == .warn)
        fixture.checkoutLock = nil

        try Data("other weights".utf8).write(to: fixture.modelDirectory.appendingPathComponent("models/m.gguf"))
        let drifted = fixture.doctor.modelArtefacts()
        #expect(drifted.status == .fail)
        #expect(drifted.summary == "1 of 4 artefacts differ from their pins: m.gguf")
        #expect(drifted.evidence.contains { $0.contains("m.gguf: digest differs from its pin") })
    }

    // MARK: tool-artefacts

    @Test func aToolWhoseExecutableChangedAfterRegistrationFails() throws {
        let fixture = try DoctorFixture()
        #expect(fixture.doctor.toolArtefacts().status == .skip)
        let registry = ToolRegistry(home: fixture.home)
        let manifest = DoctorFixture.repository.appendingPathComponent("manifests/tools/logs.search.yaml")
        _ = try registry.add([try ManifestFile.load(manifest)])
        let good = fixture.doctor.toolArtefacts()
        #expect(good.status == .pass, "\(good.evidence)")
        #expect(good.summary == "1 tools match their pinned digests")

        let tool = try registry.resolve("logs.search")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.objectURL.path)
        let handle = try FileHandle(forWritingTo: tool.objectURL)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n# changed\n".utf8))
        try handle.close()
        let bad = fixture.doctor.toolArtefacts()
        #expect(bad.status == .fail)
        #expect(bad.summary == "1 of 1 tools drifted from their pins: \(tool.reference)")
        #expect(
            bad.evidence.contains { $0.contains("[digest-mismatch]") && $0.contains(tool.manifest.executable.sha256) })
    }

    // MARK: corridors

    @Test func everyCorridorIsListedWithTheAddressTheSiteGivesIt() throws {
        let fixture = try DoctorFixture()
        #expect(fixture.doctor.corridors().status == .skip)
        let registry = ToolRegistry(home: fixture.home)
        let shipped = DoctorFixture.repository.appendingPathComponent("manifests/tools/logs.search.yaml")
        let text =
            try String(contentsOf: shipped, encoding: .utf8)
            .replacingOccurrences(of: "name: logs.search", with: "name: records.lookup")
            .replacingOccurrences(
                of: "../../tools/bin/", with: shipped.deletingLastPathComponent().path + "/../../tools/bin/")
            + "\nnetwork:\n  connect:\n    - {host: records.internal, port: 5432}\n    - {host: tickets.internal, port: 443}\n"
        let manifest = try fixture.write(text, to: fixture.home.appendingPathComponent("m/records.lookup.yaml"))
        _ = try registry.add([try ManifestFile.load(manifest)])
        let unmapped = fixture.doctor.corridors()
        #expect(unmapped.status == .warn)
        #expect(unmapped.summary.contains("2 of 2 corridors have a host the site does not map"))
        try fixture.write(
            "internal_hosts:\n  records.internal: 10.20.0.5\n  tickets.internal: 10.20.0.6\n",
            to: fixture.home.appendingPathComponent("site.yaml"))
        let mapped = fixture.doctor.corridors()
        #expect(mapped.status == .pass, "\(mapped.evidence)")
        #expect(
            mapped.evidence.first?.hasPrefix("records.lookup@1.0.0: records.internal:5432 → 10.20.0.5:5432, tcp")
                == true)
        #expect(mapped.evidence.count == 2)
    }

    // MARK: trace-verifies

    @Test func aVerifiedRunPassesAndATamperedOneFails() throws {
        let fixture = try DoctorFixture()
        #expect(fixture.doctor.traceVerifies().status == .skip)
        let store = try TraceStore(path: fixture.traceDatabase.path)
        let key = try TraceSigningKey.loadOrCreate(directory: fixture.keys)
        for runID in ["run-a", "run-b"] {
            let recorder = try RunRecorder(
                store: store, key: key, runID: runID, started: ["workflow": "triage", "principal": "ana"],
                options: TraceRecorderOptions(checkpointInterval: 2))
            try recorder.append(.toolResult, ["call_id": "c1", "content": "result 1"])
            _ = try recorder.finish(["status": "succeeded"])
        }
        let good = fixture.doctor.traceVerifies()
        #expect(good.status == .pass, "\(good.evidence)")
        #expect(good.summary == "2 runs verify (2 intact, 0 incomplete)")

        try store.withDatabase { db throws(TraceError) in
            try db.execute("DROP TRIGGER IF EXISTS events_append_only_u", stage: "drop trigger")
            try db.query(
                "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'result 1', 'result 2') AS BLOB) WHERE run_id = 'run-b'",
                [], stage: "tamper")
        }
        let bad = fixture.doctor.traceVerifies()
        #expect(bad.status == .fail)
        #expect(bad.summary == "1 of 2 runs do not verify; first: run-b")
        #expect(bad.evidence.contains { $0.hasPrefix("first failure: run-b: broken at seq 2") })
    }

    // MARK: model-server-network

    @Test func noServerIsASkipAndAServerOnTheHostNetworkFails() throws {
        let fixture = try DoctorFixture()
        let none = fixture.doctor.modelServerNetwork()
        #expect(none.status == .skip)
        #expect(none.remedy?.contains("--start-model") == true)

        // A state file whose "server" is this test process: it sees the host's interfaces, in the
        // host's namespace, exactly what an unconfined server would. Its supervisor is a process
        // that is one by its command line (a pid that is not one is not taken for it).
        let supervisor = Process()
        supervisor.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        // Longer than any wait on a loaded machine; killed when the test ends.
        // One process (no shell whose child would outlive the kill), the flag on its command line.
        supervisor.arguments = ["-c", "import time; time.sleep(600)", ModelBackground.supervisorFlag]
        try supervisor.run()
        defer { kill(supervisor.processIdentifier, SIGKILL) }
        var state = ModelServerState(
            status: "ready", supervisorPID: supervisor.processIdentifier, socket: "/x.sock", model: "tiny",
            modelSHA256: "0", serverSHA256: "0", startedAt: "2026-01-01T00:00:00Z")
        let deadline = Date().addingTimeInterval(120)
        while !state.supervisorAlive, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        state.serverPID = getpid()
        try fixture.write(state.json.prettyString, to: fixture.stateFile, mode: 0o644)
        let check = fixture.doctor.modelServerNetwork()
        #expect(check.status == .fail)
        #expect(check.summary.contains("it shares the host's network namespace"))
        #expect(check.evidence.contains { $0.hasPrefix("network namespace: server net:[") })
    }

    // MARK: tool-network and sandbox-layers (the real sandbox)

    @Test(.enabled(if: DoctorTests.sandboxAvailable, "user, mount, pid and network namespaces are not available here"))
    func aConfinedProbeSeesOnlyLoopbackAndIsRefusedASocket() async throws {
        let check = await (try DoctorFixture()).doctor.toolNetwork()
        #expect(check.status == .pass, "\(check.evidence)")
        #expect(check.summary.hasPrefix("only lo; socket(AF_INET) refused with errno 1"))
        #expect(check.evidence.contains("/proc/net/dev inside: lo"))
        if SandboxProbe.current.seccompUserNotif {
            #expect(check.evidence.contains("denied-syscall record: socket ×1 family=AF_INET type=SOCK_STREAM"))
        }
    }

    @Test(.enabled(if: DoctorTests.sandboxAvailable, "user, mount, pid and network namespaces are not available here"))
    func aProbeThatCannotRunFails() async throws {
        var fixture = try DoctorFixture()
        fixture.probeInterpreter = "/usr/bin/no-such-interpreter"
        let check = await fixture.doctor.toolNetwork()
        #expect(check.status == .fail)
        #expect(check.evidence.contains { $0.contains("/usr/bin/no-such-interpreter") })
    }

    @Test func sandboxLayersNameEveryFeature() throws {
        let check = try DoctorFixture().doctor.sandboxLayers()
        let probe = SandboxProbe.current
        #expect(check.evidence.count == probe.features.count)
        #expect(check.status == (probe.allLayersAvailable ? .pass : .fail))
    }

    // MARK: the report

    @Test func theReportPrintsOneLinePerCheckAndFailsOnAnyFailure() async throws {
        var fixture = try DoctorFixture()
        fixture.modelEndpoint = "http://203.0.113.9:8000"
        let report = await fixture.doctor.run()
        #expect(report.checks.map(\.id) == Doctor.checkIDs)
        #expect(!report.passed)
        let lines = report.text.split(separator: "\n")
        #expect(
            lines.first == "FAIL  model-endpoint        http://203.0.113.9:8000 is a remote endpoint (endpoint-refused)"
        )
        #expect(lines.last?.hasPrefix("summary: 11 checks; ") == true)
        #expect(lines.last?.contains("; failing: model-endpoint") == true)
        let json = report.json
        #expect(json["passed"] == .bool(false))
        #expect(json["checks"]?.arrayValue?.count == 11)
        #expect(json["checks"]?.arrayValue?.first?["threats"] == .array(["maestro:L1"]))
        #expect(report.checks.allSatisfy { !$0.threats.isEmpty })
    }
}
