import AirlockCore
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The workspaces runs leave, through the built binary: what a tool writes there is in the trace
/// (and replays identically), `workspaces list`, `show` and `prune`, and a running run's
/// workspace that prune refuses to touch.
@Suite("airlock workspaces (CLI)", .serialized)
final class WorkspacesCLITests {
    let home: URL
    let scratch: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }
    var workspaces: URL { home.appendingPathComponent("workspaces") }

    init() throws {
        home = try SampleSite.make("airlock-ws-home")
        scratch = try CLI.temporaryDirectory("airlock-ws-scratch")
    }

    deinit {
        try? FileManager.default.removeItem(at: home)
        try? FileManager.default.removeItem(at: scratch)
    }

    var workflow: String { SampleSite.root.appendingPathComponent("manifests/workflows/log-triage.yaml").path }

    func run(_ arguments: [String]) throws -> CLIResult { try CLI.run(arguments, environment: env) }

    func script(_ text: String) throws -> String {
        let url = scratch.appendingPathComponent("script-\(UUID().uuidString.prefix(6)).yaml")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// A scripted run of log triage: its id and workspace.
    func scriptedRun(_ responses: String, extra: [String] = []) throws -> (id: String, workspace: String) {
        let model = try script("responses:\n" + responses)
        let result = try run(["run", workflow, "--model", "script:" + model, "--json", "--quiet"] + extra)
        try #require(result.status == 0, "\(result.stdout)\(result.stderr)")
        let json = try JSONParser().parse(result.stdout)
        return (try #require(json["run_id"]?.stringValue), try #require(json["workspace"]?.stringValue))
    }

    func json(_ arguments: [String]) throws -> JSONValue {
        let result = try run(arguments + ["--json"])
        try #require(result.status == 0, "\(arguments): \(result.stdout)\(result.stderr)")
        return try JSONParser().parse(result.stdout)
    }

    static let noteTwice = """
          - tool_calls: [{name: workspace.note, arguments: {title: Triage, text: "payments: 2 ledger timeouts"}}]
          - tool_calls: [{name: logs.search, arguments: {pattern: ERROR}}]
          - tool_calls: [{name: workspace.note, arguments: {text: "auth: token refresh loop"}}]
          - content: "Two findings, noted."

        """

    @Test func aNoteAToolWroteIsInTheTraceWithItsSizeAndDigestAndReplaysIdentically() throws {
        let (id, workspace) = try scriptedRun(Self.noteTwice)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: workspace).appendingPathComponent("notes.md"))
        let digest = SHA256.hex(Array(bytes))

        let events = try #require(try json(["trace", "show", id]).arrayValue)
        let executed = events.filter { $0["type"] == "tool.executed" }.map { $0["payload"] ?? .null }
        #expect(executed.count == 3)
        // The tool that cannot write the workspace records no listing; the note tool records its note.
        #expect(executed[1]["tool"] == "logs.search@1.0.0" && executed[1]["workspace_changes"] == nil)
        let created = try #require(executed[0]["workspace_changes"]?.arrayValue)
        #expect(created.count == 1)
        #expect(created.first?["path"] == "notes.md" && created.first?["change"] == "created")
        #expect(created.first?["kind"] == "file")
        #expect(created.first?["content"]?.stringValue?.contains("payments: 2 ledger timeouts") == true)
        let modified = try #require(executed[2]["workspace_changes"]?.arrayValue?.first)
        #expect(modified["change"] == "modified")
        #expect(modified["bytes"]?.integerValue == Int64(bytes.count))
        #expect(modified["sha256"]?.stringValue == digest)
        #expect(modified["content"]?.stringValue == String(decoding: bytes, as: UTF8.self))

        let show = try run(["trace", "show", id])
        #expect(
            show.stdout.contains("workspace: modified notes.md (\(bytes.count) bytes, sha256 \(digest))"),
            "\(show.stdout)")
        #expect(show.stdout.contains("1 workspace change(s)"))
        #expect(try run(["trace", "verify", id]).stdout.contains("intact"))

        let replay = try run(["replay", id])
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.contains("replay identical"), "\(replay.stdout)")

        let listed = try run(["workspaces", "show", id])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("sha256:\(digest)  notes.md"), "\(listed.stdout)")
    }

    @Test func listShowsEachWorkspaceWithItsRunsAndShowListsItsFilesWithoutFollowingLinks() throws {
        let first = try scriptedRun(Self.noteTwice)
        let second = try scriptedRun("  - content: nothing to note\n")
        let test = try run(["tools", "test", "workspace.note", "--args", #"{"text": "from tools test"}"#])
        #expect(test.status == 0, "\(test.stderr)")
        #expect(test.stdout.contains("changed:   created notes.md"), "\(test.stdout)")
        let outside = try CLI.temporaryDirectory("airlock-ws-outside")
        try Data("elsewhere".utf8).write(to: outside.appendingPathComponent("secret.txt"))
        try FileManager.default.createSymbolicLink(
            at: URL(fileURLWithPath: first.workspace).appendingPathComponent("escape"), withDestinationURL: outside)

        let list = try #require(try json(["workspaces", "list"]).arrayValue)
        #expect(list.count == 3)
        func entry(_ workspace: String) -> JSONValue? { list.first { $0["path"]?.stringValue == workspace } }
        let one = try #require(entry(first.workspace))
        #expect(one["runs"]?.arrayValue?.map { $0["run"] } == [.string(first.id)])
        #expect(one["runs"]?.arrayValue?.first?["status"] == "finished:succeeded")
        #expect(one["files"] == 1 && one["in_use"] == false)
        #expect(one["bytes"]?.integerValue ?? 0 > 0)
        #expect(entry(second.workspace)?["files"] == 0)
        let tested = try #require(list.first { $0["name"]?.stringValue?.hasPrefix("test-") == true })
        #expect(tested["runs"] == [])
        let text = try run(["workspaces", "list"])
        #expect(text.stdout.contains("NAME") && text.stdout.contains(first.id))

        let detail = try json(["workspaces", "show", URL(fileURLWithPath: first.workspace).lastPathComponent])
        let entries = try #require(detail["entries"]?.arrayValue)
        #expect(entries.map { $0["path"] } == ["escape", "notes.md"])
        #expect(entries.first?["kind"] == "symlink" && entries.first?["target"]?.stringValue == outside.path)
        #expect(entries.last?["sha256"]?.stringValue?.count == 64)
        let missing = try run(["workspaces", "show", "no-such-workspace-or-run"])
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("no workspace or run no-such-workspace-or-run"))
    }

    @Test func pruneRemovesIdleWorkspacesOlderThanAnAgeAndNothingBeyondTheDirectory() throws {
        let fm = FileManager.default
        let outside = try CLI.temporaryDirectory("airlock-ws-outside")
        try Data("keep me".utf8).write(to: outside.appendingPathComponent("precious.txt"))
        try fm.createDirectory(at: workspaces, withIntermediateDirectories: true)
        // Airlock names a workspace after the second it made it: these two are from 2001.
        let old = workspaces.appendingPathComponent("run-1000000000-0badc0de")
        let reused = workspaces.appendingPathComponent("run-1000000001-0ddba11a")
        for directory in [old, reused] { try fm.createDirectory(at: directory, withIntermediateDirectories: true) }
        try Data("old".utf8).write(to: old.appendingPathComponent("left.txt"))
        try fm.createSymbolicLink(at: old.appendingPathComponent("escape"), withDestinationURL: outside)
        try fm.createSymbolicLink(at: workspaces.appendingPathComponent("linked"), withDestinationURL: outside)
        // An old workspace a run used just now was last used now.
        _ = try scriptedRun("  - content: reused\n", extra: ["--workspace", reused.path])
        let fresh = try scriptedRun("  - content: fresh\n")

        let bad = try run(["workspaces", "prune", "--older-than", "3x"])
        #expect(bad.status == 64, "\(bad.stderr)")
        let dry = try run(["workspaces", "prune", "--older-than", "1d", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would remove run-1000000000-0badc0de"), "\(dry.stdout)")
        #expect(fm.fileExists(atPath: old.path))

        let pruned = try run(["workspaces", "prune", "--older-than", "1d"])
        #expect(pruned.status == 0, "\(pruned.stdout)\(pruned.stderr)")
        #expect(pruned.stdout.contains("removed run-1000000000-0badc0de"))
        #expect(pruned.stdout.contains("pruned 1 workspace(s)"), "\(pruned.stdout)")
        #expect(pruned.stdout.contains("kept 2 used within 1d"), "\(pruned.stdout)")
        #expect(!fm.fileExists(atPath: old.path))
        #expect(fm.fileExists(atPath: reused.path) && fm.fileExists(atPath: fresh.workspace))

        // A lock file whose workspace was removed by hand goes too.
        let ghost = home.appendingPathComponent("run/workspaces/removed-by-hand.lock")
        try Data().write(to: ghost)
        let all = try run(["workspaces", "prune"])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.contains("pruned 2 workspace(s)"), "\(all.stdout)")
        #expect(!fm.fileExists(atPath: fresh.workspace))
        #expect(!fm.fileExists(atPath: ghost.path))
        // A link in the workspaces directory is not a workspace: never followed, never removed.
        #expect((try? fm.destinationOfSymbolicLink(atPath: workspaces.appendingPathComponent("linked").path)) != nil)
        #expect(try String(contentsOf: outside.appendingPathComponent("precious.txt"), encoding: .utf8) == "keep me")
        #expect(try json(["workspaces", "list"]) == [])
    }

    @Test func pruneRefusesTheWorkspaceOfARunThatIsStillRunning() throws {
        let model = try HeldModel()
        defer { model.stop() }
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["run", workflow, "--model", "unix:" + model.path, "--quiet"]
        process.environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "AIRLOCK_HOME": home.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        // The run holds its workspace once the model has been asked (its run.started is in the trace).
        // A generous deadline: on a loaded 2-core machine a first run has taken over a minute to start.
        var held: JSONValue?
        let deadline = Date().addingTimeInterval(180)
        while held == nil, Date() < deadline {
            held = try json(["workspaces", "list"]).arrayValue?.first {
                $0["in_use"] == true && $0["runs"]?.arrayValue?.isEmpty == false
            }
            if held == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        let workspace = try #require(held, "the run never held its workspace")
        let name = try #require(workspace["name"]?.stringValue)
        let runID = try #require(workspace["runs"]?.arrayValue?.first?["run"]?.stringValue)
        let path = try #require(workspace["path"]?.stringValue)

        let prune = try run(["workspaces", "prune"])
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(
            prune.stdout.contains("kept \(name): in use by a running run (\(runID)); not removed"), "\(prune.stdout)")
        #expect(FileManager.default.fileExists(atPath: path))
        let shown = try run(["workspaces", "show", runID])
        #expect(shown.stdout.contains("state:     in use by a running run (\(runID))"), "\(shown.stdout)")
        // Another run cannot take the same workspace either.
        let other = try run([
            "run", workflow, "--workspace", path, "--model", "script:" + (try script("responses:\n  - content: x\n")),
        ])
        #expect(other.status == 64, "\(other.stderr)")
        #expect(other.stderr.contains("the workspace \(name) is in use by another run"))

        // A killed run holds nothing: its workspace can go.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let after = try run(["workspaces", "prune"])
        #expect(after.stdout.contains("removed \(name)"), "\(after.stdout)")
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}

/// A model server that takes every request and never answers: a run asking it stays running.
final class HeldModel: Sendable {
    let path: String
    private let listener: Int32
    private let clients = Mutex<[Int32]>([])

    init() throws {
        let path = "/tmp/al-held-\(UUID().uuidString.prefix(8)).sock"
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        listener = fd
        Thread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    return
                }
                clients.withLock { $0.append(client) }
            }
        }.start()
    }

    /// Stops accepting, closes every connection and removes the socket file.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for client in clients.withLock({ $0 }) { close(client) }
        unlink(path)
    }
}
