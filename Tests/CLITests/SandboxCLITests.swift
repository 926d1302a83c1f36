import AirlockTestSupport
import Foundation
import Testing

/// `airlock sandbox …` as a user runs it: the built binary, its output and its exit code.
@Suite struct SandboxCLITests {
    @Test func theProgramsOwnExitCodeAndOutputComeThrough() throws {
        let result = try CLI.run(["sandbox", "run", "--", "sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(result.status == 3)
        #expect(result.stdout == "out\n")
        #expect(result.stderr.hasPrefix("err\n"))
        #expect(result.stderr.contains("airlock: exited 3"))
    }

    @Test func aKilledProgramExitsWith128PlusTheSignal() throws {
        let result = try CLI.run(["sandbox", "run", "--timeout", "0.5", "--", "sleep", "30"])
        #expect(result.status == 137)
        #expect(result.stderr.contains("timed out"))
    }

    @Test func aMissingProgramIsASetupErrorWithExit125() throws {
        let result = try CLI.run(["sandbox", "run", "--", "/usr/bin/definitely-not-here"])
        #expect(result.status == 125)
        #expect(result.stderr.contains("execve(/usr/bin/definitely-not-here): No such file or directory (ENOENT)"))
    }

    @Test func badUsageExits64AndNamesTheFlag() throws {
        let cases: [([String], String)] = [
            (["sandbox", "run", "--memory", "lots", "--", "true"], "--memory lots"),
            (["sandbox", "run", "--env", "NOEQUALS", "--", "true"], "--env NOEQUALS"),
            (["sandbox", "run"], "no program given"),
            (["sandbox", "run", "--allow-degraded", "everything", "--", "true"], "--allow-degraded everything"),
            (
                ["sandbox", "run", "--ro", "/nonexistent-airlock-path", "--", "true"],
                "mount source /nonexistent-airlock-path"
            ),
            (["sandbox", "run", "--hostname", "box", "--", "true"], "unknown option --hostname"),
        ]
        for (arguments, expected) in cases {
            let result = try CLI.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
        // A late --help is help, not a program to run.
        let help = try CLI.run(["sandbox", "run", "--tty", "--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: airlock sandbox run"), "\(help.stderr)")
    }

    /// `sandbox run` is parsed against its own command first (a start per use builds no whole
    /// tree); what does not parse there is parsed by the whole tree, so the parser's own
    /// messages still name the full command and exit 64, and help is the same help.
    @Test func theParsersOwnErrorsAndHelpNameTheWholeCommand() throws {
        for arguments in [
            ["sandbox", "run", "--timeout", "soon", "--", "true"], ["sandbox", "run", "--pids"],
            ["sandbox", "run", "--cpu", "1.5", "--", "true"],
        ] {
            let result = try CLI.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("Usage: airlock sandbox run"), "\(arguments): \(result.stderr)")
        }
        let help = try CLI.run(["sandbox", "run", "--help"])
        let whole = try CLI.run(["help", "sandbox", "run"])
        #expect(help.status == 0 && whole.status == 0, "\(help.stderr) \(whole.stderr)")
        #expect(help.stdout == whole.stdout && help.stdout.contains("USAGE: airlock sandbox run"), "\(help.stdout)")
        let ran = try CLI.run(["sandbox", "run", "--timeout", "30", "--env", "A=b", "--", "sh", "-c", "echo $A"])
        #expect(ran.status == 0 && ran.stdout == "b\n", "\(ran.stderr)")
    }

    @Test func jsonOutputIsTheExecutionRecord() throws {
        let result = try CLI.run([
            "sandbox", "run", "--json", "--env", "GREETING=hi", "--", "sh", "-c", "echo $GREETING",
        ])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let stdout = try #require(object["stdout"] as? [String: Any])
        #expect(stdout["text"] as? String == "hi\n")
        let confinement = try #require(object["confinement"] as? [String: Any])
        #expect((confinement["seccompBPFSHA256"] as? String)?.count == 64)
        #expect(confinement["namespaces"] as? [String] == ["user", "mnt", "pid", "net", "ipc", "uts", "cgroup"])
    }

    @Test func readWriteWorkdirAndSizes() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The sandbox user must be able to write there: make it world-writable for the test.
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir.path)
        let result = try CLI.run([
            "sandbox", "run", "--workdir", dir.path, "--output-limit", "1K", "--memory", "256M", "--",
            "sh", "-c", "pwd; echo saved > note.txt; head -c 5000 /dev/zero | tr '\\0' a",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix(dir.path + "\n"))
        #expect(result.stderr.contains("stdout truncated: kept 1024 of"))
        #expect(try String(contentsOf: dir.appendingPathComponent("note.txt"), encoding: .utf8) == "saved\n")
    }

    @Test func aReadWriteMountTheSandboxUserCannotWriteIsRefusedUpFront() throws {
        guard getuid() == 0 else { return }  // only root maps the sandbox user to another host uid
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        let result = try CLI.run(["sandbox", "run", "--rw", dir.path, "--", "true"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("not writable by the sandbox's host user (uid 65534"))
    }

    @Test func probeReportsEveryLayer() throws {
        let result = try CLI.run(["sandbox", "probe"])
        for name in [
            "user-namespaces", "all-namespaces", "seccomp-filter", "seccomp-user-notif", "landlock", "cgroups",
            "clone3", "pidfd",
        ] {
            #expect(result.stdout.contains(name), "\(name) missing from probe")
        }
        let json = try CLI.run(["sandbox", "probe", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["landlockABI"] is Int)
        // Speed-only features are reported but never counted as missing confinement.
        let features = try #require(object["features"] as? [[String: Any]])
        let speedOnly = features.filter { ($0["isLayer"] as? Bool) == false }.compactMap { $0["name"] as? String }
        #expect(Set(speedOnly) == ["clone3", "detached-mount-clone", "root-templates"])
    }

    /// Most hosts (systemd's) share their mounts: a bind must still not propagate either way.
    @Test(
        .enabled(if: geteuid() == 0, "a mount namespace of its own needs root"),
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"), "util-linux's unshare"),
        arguments: ["on", "off"])
    func onAHostWhoseMountsAreSharedTheBindsArePrivate(templates: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "seen\n".write(to: dir.appendingPathComponent("f"), atomically: true, encoding: .utf8)
        let result = try CLI.run(
            [
                "sandbox", "run", "--ro", dir.path, "--", "/bin/sh", "-c",
                "cat \(dir.path)/f; grep -c ' \(dir.path) ' /proc/self/mountinfo; grep ' \(dir.path) ' /proc/self/mountinfo",
            ],
            environment: ["AIRLOCK_SANDBOX_TEMPLATES": templates],
            launcher: ["/usr/bin/unshare", "--mount", "--propagation", "shared"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.prefix(2) == ["seen", "1"], "\(result.stdout)")
        #expect(lines.count == 3 && !lines[2].contains("shared:"), "\(result.stdout)")
    }

    @Test func nothingLeaksAcrossManyRuns() throws {
        let result = try CLI.run(["sandbox-leak-check", "9"], executable: CLI.helper)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("no leaks"))
    }
}

/// The sandbox as an unprivileged user: through unprivileged user namespaces, with no cgroup.
@Suite struct UnprivilegedSandboxTests {
    /// Runs the CLI as uid/gid 65534 from a copy of the binary every user can execute.
    static func runAsNobody(_ arguments: [String]) throws -> CLIResult? {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return nil }
        let dir = try CLI.temporaryDirectory("airlock-nobody")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        let copy = dir.appendingPathComponent("airlock")
        defer { try? FileManager.default.removeItem(at: dir) }
        try ExecutableCopy.install(CLI.binary, to: copy)
        return try Self.spawnSetpriv(copy: copy, arguments: arguments)
    }

    private static func spawnSetpriv(copy: URL, arguments: [String]) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", copy.path] + arguments
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": "/tmp"]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    @Test func anUnprivilegedUserGetsTheSameConfinement() throws {
        guard
            let result = try Self.runAsNobody([
                "sandbox", "run", "--json", "--", "sh", "-c",
                "id -u; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; cat /proc/net/dev | tail -n +3 | cut -d: -f1",
            ])
        else {
            return  // needs root to become another user; CI runs as root
        }
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let stdout = try #require((object["stdout"] as? [String: Any])?["text"] as? String)
        #expect(stdout.contains("1000\n"))
        #expect(stdout.contains("CapEff:\t0000000000000000"))
        #expect(stdout.contains("NoNewPrivs:\t1"))
        #expect(stdout.contains("Seccomp:\t2"))
        #expect(stdout.hasSuffix("lo\n"))
        let confinement = try #require(object["confinement"] as? [String: Any])
        #expect(confinement["uidMap"] as? String == "1000 65534 1")
    }

    @Test func anUnprivilegedMemoryLimitNeedsAnExplicitDegradedRun() throws {
        guard let refused = try Self.runAsNobody(["sandbox", "run", "--memory", "64M", "--", "true"]) else { return }
        if refused.status == 0 { return }  // a host with a delegated cgroup for this user
        #expect(refused.status == 125)
        #expect(refused.stderr.contains("--allow-degraded cgroups"))
        let degraded = try #require(
            try Self.runAsNobody([
                "sandbox", "run", "--memory", "64M", "--allow-degraded", "cgroups", "--json", "--", "true",
            ]))
        #expect(degraded.status == 0, "\(degraded.stderr)")
        #expect(degraded.stdout.contains("\"cgroups\""))
        #expect(degraded.stdout.contains("RLIMIT_AS"))
    }
}
