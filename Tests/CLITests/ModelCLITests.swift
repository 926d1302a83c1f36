import AirlockCore
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Where the real model is installed for the tests: `AIRLOCK_TEST_MODEL_HOME` (tools/test sets it
/// after `airlock model install`), else the default store. Under CI (`AIRLOCK_REQUIRE_MODEL=1`) the
/// tests that need it run regardless, and fail if it is missing: they must not skip there.
enum InstalledModel {
    static let store: String = {
        if let explicit = ProcessInfo.processInfo.environment["AIRLOCK_TEST_MODEL_HOME"], !explicit.isEmpty {
            return explicit
        }
        return geteuid() == 0 ? "/var/lib/airlock/model" : NSHomeDirectory() + "/.local/share/airlock/model"
    }()
    static let available = FileManager.default.fileExists(atPath: store + "/installed.json")
    static let required = ProcessInfo.processInfo.environment["AIRLOCK_REQUIRE_MODEL"] == "1"
    /// Run when installed, or when required (then a missing model fails the test).
    static let enabled = available || required
    static let skipReason: Comment = "needs the real model: run `airlock model install` (tools/test does)"
}

/// The embedded model as its users meet it: the real llama-server, built from the pinned source,
/// serving the pinned SmolLM2 file from inside Airlock's sandbox.
@Suite("airlock model (CLI, real model)", .serialized, .enabled(if: InstalledModel.enabled, InstalledModel.skipReason))
struct ModelCLITests {
    let home: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path, "AIRLOCK_MODEL_HOME": InstalledModel.store] }

    init() throws {
        try #require(InstalledModel.available, "no installed model in \(InstalledModel.store)")
        home = try CLI.temporaryDirectory("airlock-model-home")
        try FileManager.default.setAttributes([.posixPermissions: 0o711], ofItemAtPath: home.path)
    }

    private func state() throws -> JSONValue {
        let status = try CLI.run(["model", "status", "--json"], environment: env)
        return try JSONParser().parse(Array(status.stdout.utf8))
    }

    @Test func verifyPassesOnTheInstalledArtefacts() throws {
        let verify = try CLI.run(["model", "verify"], environment: env)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("SmolLM2-135M-Instruct.Q4_1.gguf"))
        #expect(verify.stdout.contains("verified: every artefact matches its pin"))
    }

    @Test func theConfinedServerAnswersHasNoNetworkIsRestartedAndStops() throws {
        let started = try CLI.run(["model", "serve", "--background", "--threads", "1"], environment: env)
        defer { _ = try? CLI.run(["model", "stop"], environment: env) }
        #expect(started.status == 0, "\(started.stdout)\(started.stderr)")
        #expect(started.stdout.contains("serving smollm2-135m-instruct on unix:"))

        let first = try state()
        #expect(first["health"]?.stringValue == "ready")
        let server = try #require(first["server"])
        // No network: the server's own namespace, with loopback only.
        #expect(server["interfaces"] == ["lo"])
        #expect(server["own_network_namespace"] == true)
        let pid = try #require(server["server_pid"]?.integerValue)
        let devices = try String(contentsOfFile: "/proc/\(pid)/net/dev", encoding: .utf8)
        let names = devices.split(separator: "\n").dropFirst(2).map {
            $0.split(separator: ":")[0].trimmingCharacters(in: .whitespaces)
        }
        #expect(names == ["lo"])
        let ours = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
        let theirs = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
        #expect(ours != theirs)

        // A second start reuses the running server.
        let again = try CLI.run(["model", "serve", "--background"], environment: env)
        #expect(again.status == 0)
        #expect(try state()["server"]?["supervisor_pid"] == server["supervisor_pid"])

        // Killed, it comes back: supervised.
        kill(Int32(pid), SIGKILL)
        var restarted: JSONValue?
        for _ in 0..<300 {
            Thread.sleep(forTimeInterval: 0.1)
            let now = try state()
            if now["health"]?.stringValue == "ready", let newPID = now["server"]?["server_pid"]?.integerValue,
                newPID != pid
            {
                restarted = now
                break
            }
        }
        let after = try #require(restarted, "the server was not restarted")
        #expect(after["server"]?["restarts"] == 1)

        // Stopped: supervisor, server and socket gone.
        let supervisor = try #require(server["supervisor_pid"]?.integerValue)
        let stop = try CLI.run(["model", "stop"], environment: env)
        #expect(stop.status == 0)
        // Exited: gone, or a zombie its new parent has not reaped yet (stop waits on the pidfd,
        // which is readable at the exit itself).
        #expect(Self.hasExited(Int32(supervisor)))
        let newPID = try #require(after["server"]?["server_pid"]?.integerValue)
        #expect(kill(Int32(newPID), 0) != 0)
        #expect(!FileManager.default.fileExists(atPath: server["socket"]?.stringValue ?? "/"))
        let stopped = try CLI.run(["model", "status"], environment: env)
        #expect(stopped.status == 1)
        #expect(stopped.stdout.contains("serving:   no"))
    }

    /// Several front doors finding no server at the same moment start one supervisor between
    /// them (the start is serialised by `run/model-start.lock`), and all use it.
    @Test func concurrentStartsShareOneSupervisor() throws {
        defer { _ = try? CLI.run(["model", "stop"], environment: env) }
        let starts = 4
        let results = Mutex<[CLIResult]>([])
        DispatchQueue.concurrentPerform(iterations: starts) { _ in
            if let result = try? CLI.run(["model", "serve", "--background", "--threads", "1"], environment: env) {
                results.withLock { $0.append(result) }
            }
        }
        let all = results.withLock { $0 }
        #expect(all.count == starts)
        for result in all { #expect(result.status == 0, "\(result.stdout)\(result.stderr)") }
        let pids = Set(all.compactMap { $0.stdout.split(separator: "supervisor pid ").last?.prefix { $0.isNumber } })
        #expect(pids.count == 1, "\(all.map(\.stdout))")
        let socket = home.appendingPathComponent("run/model/llama.sock").path
        let supervisors = (try FileManager.default.contentsOfDirectory(atPath: "/proc")).filter { entry in
            guard entry.allSatisfy(\.isNumber),
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.contains("--detached-supervisor") && arguments.contains(socket)
        }
        #expect(supervisors.count == 1, "supervisors for \(socket): \(supervisors)")
    }

    /// The supervisor's pid from `model-server.json`, once it says `ready`.
    private func readySupervisor(deadline seconds: Double = 120) throws -> Int32 {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if let state = try? state(), state["health"]?.stringValue == "ready",
                let pid = state["server"]?["supervisor_pid"]?.integerValue
            {
                return Int32(pid)
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let last = (try? state())?.canonicalString ?? "no state"
        return try #require(nil as Int32?, "the model server did not become ready: \(last)")
    }

    /// Whether `pid` ends before `seconds` pass.
    private func ends(_ pid: Int32, within seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if kill(pid, 0) != 0 { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return kill(pid, 0) != 0
    }

    /// An idle supervisor serves while a client holds a lease, and stops once none has for its
    /// idle time; it says why in its log.
    @Test func anIdleSupervisorStopsOnceNoClientHoldsALease() throws {
        let clients = home.appendingPathComponent("run/model-clients")
        try FileManager.default.createDirectory(at: clients, withIntermediateDirectories: true)
        // A client's lease, taken as ModelBackground.lease() takes it: locked, then renamed in.
        let pending = clients.appendingPathComponent("test.pending").path
        let lease = try FileLock(path: pending, wait: false)
        try FileManager.default.moveItem(atPath: pending, toPath: clients.appendingPathComponent("test.lease").path)
        let started = try CLI.run(
            ["model", "serve", "--background", "--threads", "1", "--idle-seconds", "1"], environment: env)
        defer { _ = try? CLI.run(["model", "stop"], environment: env) }
        #expect(started.status == 0, "\(started.stdout)\(started.stderr)")
        let pid = try readySupervisor()
        // Leased: several idle periods pass and it still serves.
        #expect(!ends(pid, within: 4), "the supervisor stopped while a client held a lease")
        lease.release()
        #expect(ends(pid, within: 60), "the supervisor kept serving with no client")
        let log = try String(contentsOf: home.appendingPathComponent("run/model-server.log"), encoding: .utf8)
        #expect(log.contains("stopping: no client for 1 s"), "\(log)")
    }

    /// A run killed while it uses an on-demand server leaves no server behind: the lease dies
    /// with the run, and the supervisor stops after the site's `model_idle_seconds`.
    @Test func aKilledRunsSupervisorStopsAfterItsIdleTime() throws {
        let sample = try SampleSite.make("airlock-idle-home")
        defer { try? FileManager.default.removeItem(at: sample) }
        let env = ["AIRLOCK_HOME": sample.path, "AIRLOCK_MODEL_HOME": InstalledModel.store]
        let siteFile = sample.appendingPathComponent("site.yaml")
        try Data((try String(contentsOf: siteFile, encoding: .utf8) + "model_idle_seconds: 2\n").utf8).write(
            to: siteFile)
        let run = Process()
        run.executableURL = CLI.binary
        run.arguments = [
            "run", SampleSite.root.appendingPathComponent("manifests/workflows/log-triage.yaml").path, "--quiet",
        ]
        run.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        run.standardOutput = FileHandle.nullDevice
        run.standardError = FileHandle.nullDevice
        try run.run()
        let statePath = sample.appendingPathComponent("run/model-server.json").path
        var supervisor: Int32?
        let deadline = Date(timeIntervalSinceNow: 120)
        while supervisor == nil, Date() < deadline, run.isRunning {
            if let data = FileManager.default.contents(atPath: statePath),
                let state = try? JSONParser().parse(Array(data)), state["status"] == "ready"
            {
                supervisor = state["supervisor_pid"]?.integerValue.map { Int32($0) }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        let pid = try #require(supervisor, "the run never had a ready model server")
        defer { kill(pid, SIGTERM) }
        #expect(ends(pid, within: 60), "the killed run's supervisor kept serving")
    }

    /// Deleting a home stops its supervisor, even one that serves until stopped.
    @Test func aDeletedHomeStopsItsSupervisor() throws {
        let started = try CLI.run(["model", "serve", "--background", "--threads", "1"], environment: env)
        #expect(started.status == 0, "\(started.stdout)\(started.stderr)")
        let pid = try readySupervisor()
        defer { kill(pid, SIGTERM) }
        try FileManager.default.removeItem(at: home.appendingPathComponent("run"))
        #expect(ends(pid, within: 60), "the supervisor of a deleted home kept serving")
    }

    @Test func aTamperedModelIsRefusedBeforeServing() throws {
        // A copy of the store with one byte of the model changed.
        let copy = home.appendingPathComponent("store")
        try FileManager.default.copyItem(atPath: InstalledModel.store, toPath: copy.path)
        let model = copy.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf")
        let handle = try FileHandle(forWritingTo: model)
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data([0x00, 0x01]))
        try handle.close()
        let env = ["AIRLOCK_HOME": home.path, "AIRLOCK_MODEL_HOME": copy.path]
        let verify = try CLI.run(["model", "verify"], environment: env)
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("FAIL model    SmolLM2-135M-Instruct.Q4_1.gguf"))
        let serve = try CLI.run(["model", "serve", "--background"], environment: env)
        #expect(serve.status == 1, "\(serve.stdout)\(serve.stderr)")
        #expect(serve.stderr.contains("digest-mismatch"))
    }

    /// A sample site (its own home, the datasets and the shipped tools) with the shipped log-triage
    /// workflow at a smaller budget (a 135M model on two cores is slow) beside a copy of its policy.
    private func smallTriageSite() throws -> (env: [String: String], workflow: URL) {
        let root = SampleSite.root
        let home = try SampleSite.make("airlock-model-site")
        let directory = home.appendingPathComponent("w")
        for sub in ["workflows", "policies"] {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(
            at: root.appendingPathComponent("manifests/policies/workflows.yaml"),
            to: directory.appendingPathComponent("policies/workflows.yaml"))
        let text = try String(
            contentsOf: root.appendingPathComponent("manifests/workflows/log-triage.yaml"), encoding: .utf8)
        let small =
            text
            .replacingOccurrences(of: "max_tokens: 1024", with: "max_tokens: 96")
            .replacingOccurrences(of: "max_steps: 8", with: "max_steps: 3")
        #expect(small != text)
        let workflow = directory.appendingPathComponent("workflows/log-triage.yaml")
        try small.write(to: workflow, atomically: true, encoding: .utf8)
        return (["AIRLOCK_HOME": home.path, "AIRLOCK_MODEL_HOME": InstalledModel.store], workflow)
    }

    /// Two analysts' runs on one home at the same moment, neither finding a server: one
    /// supervisor starts, and both runs are answered by it (their `run.started` name the same
    /// served model and digests).
    @Test func twoConcurrentRunsShareOneSupervisor() throws {
        let (env, workflow) = try smallTriageSite()
        defer { _ = try? CLI.run(["model", "stop"], environment: env) }
        let results = Mutex<[CLIResult]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            if let result = try? CLI.run(["run", workflow.path, "--json", "--quiet"], environment: env) {
                results.withLock { $0.append(result) }
            }
        }
        let all = results.withLock { $0 }
        #expect(all.count == 2)
        for result in all {
            // The model is small: it may answer, or loop until a limit stops it; never 69.
            #expect([0, 3, 4, 5].contains(result.status), "\(result.stdout)\(result.stderr)")
        }
        let home = try #require(env["AIRLOCK_HOME"])
        let socket = home + "/run/model/llama.sock"
        let supervisors = (try FileManager.default.contentsOfDirectory(atPath: "/proc")).filter { entry in
            guard entry.allSatisfy(\.isNumber),
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.contains("--detached-supervisor") && arguments.contains(socket)
        }
        #expect(supervisors.count == 1, "supervisors for \(socket): \(supervisors)")
        let list = try JSONParser().parse(try CLI.run(["trace", "list", "--json"], environment: env).stdout)
        let ids = (list.arrayValue ?? []).compactMap { $0["run"]?.stringValue }
        #expect(ids.count == 2)
        var served: Set<String> = []
        for id in ids {
            let show = try JSONParser().parse(try CLI.run(["trace", "show", id, "--json"], environment: env).stdout)
            let started = show.arrayValue?.first { $0["type"] == "run.started" }
            served.insert(started?["payload"]?["model"]?["embedded"]?["model_sha256"]?.stringValue ?? "none")
        }
        #expect(served.count == 1 && !served.contains("none"), "\(served)")
    }

    @Test func aRealToolCallRoundTripThroughTheConfinedServer() throws {
        let (env, workflow) = try smallTriageSite()
        defer { _ = try? CLI.run(["model", "stop"], environment: env) }
        let run = try CLI.run(["run", workflow.path, "--json"], environment: env)
        // The model is small: it may answer, loop until the policy's rate rule or the repeat
        // bound stops it, or end with a degenerate answer.
        #expect([0, 3, 4, 5, 6].contains(run.status), "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("model: starting the model server"))
        #expect(run.stderr.contains("model: the model server is ready after "), "\(run.stderr)")
        let outcome = try JSONParser().parse(Array(run.stdout.utf8))
        let runID = try #require(outcome["run_id"]?.stringValue)
        #expect((outcome["executed"]?.integerValue ?? 0) >= 1, "no call of the real model ran: \(run.stderr)")

        let verify = try CLI.run(["trace", "verify", runID], environment: env)
        #expect(verify.status == 0, "\(verify.stdout)")
        let export = try CLI.run(["trace", "export", runID, "--format", "jsonl"], environment: env)
        let events = try export.stdout.split(separator: "\n").dropFirst().map {
            try JSONParser().parse(Array($0.utf8))["event"] ?? .null
        }
        let started = try #require(events.first { $0["type"] == "run.started" }?["payload"]?["model"])
        let embedded = try #require(started["embedded"])
        #expect(embedded["model_sha256"] == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
        #expect(embedded["server_sha256"]?.stringValue?.count == 64)
        #expect(embedded["name"] == "smollm2-135m-instruct")
        #expect(started["tool_calling"] == "constrained")
        #expect(started["sampling"]?["seed"] == 7)
        #expect(embedded["server_network"] == "own namespace, interfaces: lo")

        // The README's main job replays identically from the trace alone: nothing but the run id.
        let replay = try CLI.run(["replay", runID], environment: env)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.contains("replay identical"), "\(replay.stdout)")
        // A proposal of the real model, judged and run in the sandbox.
        let executed = events.filter { $0["type"] == "tool.executed" }
        #expect(!executed.isEmpty)
        #expect(
            events.contains {
                $0["type"] == "model.response" && $0["payload"]?["tool_calls"]?.arrayValue?.isEmpty == false
            })
    }

    /// Whether `pid` has exited: no such process, or a zombie (state `Z` in `/proc/PID/stat`).
    static func hasExited(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}

/// `airlock model` and `airlock run` where no model is installed: runs everywhere.
@Suite("airlock model (CLI, nothing installed)")
struct ModelAbsentCLITests {
    @Test func nothingInstalledIsAClearError() throws {
        // The sample site: its tools registered, so the workflow is valid.
        let home = try SampleSite.make("airlock-no-model")
        defer { try? FileManager.default.removeItem(at: home) }
        let env = ["AIRLOCK_HOME": home.path, "AIRLOCK_MODEL_HOME": home.appendingPathComponent("empty").path]
        let status = try CLI.run(["model", "status"], environment: env)
        #expect(status.status == 66)
        let run = try CLI.run(
            ["run", RunCLITests.root.appendingPathComponent("manifests/workflows/log-triage.yaml").path, "--json"],
            environment: env)
        #expect(run.status == 69)
        // Recorded as a run that could not reach its model, naming the remedy.
        let outcome = try JSONParser().parse(run.stdout)
        #expect(outcome["status"] == "model_unreachable")
        #expect(outcome["message"]?.stringValue?.contains("airlock model install") == true)
        let list = try JSONParser().parse(try CLI.run(["trace", "list", "--json"], environment: env).stdout)
        #expect(list.arrayValue?.first?["status"] == "finished:model_unreachable")
        let replay = try CLI.run(["replay", outcome["run_id"]?.stringValue ?? "?"], environment: env)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
    }
}
