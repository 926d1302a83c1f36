import AirlockTestSupport
import Foundation
import Testing

@testable import Sandbox

@Suite(.enabled(if: Box.available, "user, mount, pid and network namespaces are not available on this host"))
struct NetworkConfinementTests {
    @Test func tcpAndUdpToLoopbackAndRoutableAddressesFail() async throws {
        let record = try await Box.python(
            """
            import socket
            for family, kind, addr in [
                (socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 22)),
                (socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", 53)),
                (socket.AF_INET, socket.SOCK_STREAM, ("1.1.1.1", 443)),
                (socket.AF_INET, socket.SOCK_DGRAM, ("8.8.8.8", 53)),
                (socket.AF_INET6, socket.SOCK_STREAM, ("::1", 22)),
            ]:
                try:
                    s = socket.socket(family, kind)
                    s.settimeout(2)
                    s.connect(addr)
                    s.sendto(b"x", addr) if kind == socket.SOCK_DGRAM else None
                    print("REACHED", addr)
                except OSError as e:
                    print("refused", addr, e.errno)
            """)
        #expect(record.termination == .exited(0), "\(record.stderr.text)")
        #expect(!record.stdout.text.contains("REACHED"))
        #expect(record.stdout.text.components(separatedBy: "refused").count - 1 == 5)
        // Every attempt failed at socket() with EPERM and was recorded.
        #expect(record.stdout.text.contains("refused ('127.0.0.1', 22) 1"))
        let socketDenial = try #require(record.deniedSyscalls.first { $0.name == "socket" })
        #expect(socketDenial.count == 5)
        #expect(socketDenial.detail == "family=AF_INET type=SOCK_STREAM")
    }

    @Test func onlyLoopbackExistsInTheNetworkNamespace() async throws {
        let record = try await Box.sh("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '")
        #expect(record.stdout.text == "lo\n")
    }

    @Test func liveSandboxesNeverShareANetworkAndNothingOutlivesARun() async throws {
        let name = "airlock-test-\(UUID().uuidString.prefix(8))"
        // The listener holds its socket until the test releases it (a file in a shared directory),
        // not for a guessed time: on a loaded machine a fixed sleep can end before the test looks.
        let control = try Box.writableDirectory()
        defer { try? FileManager.default.removeItem(at: control) }
        let release = control.appendingPathComponent("release")
        let listen = """
            import os, socket, time
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind("\\0\(name)"); s.listen(1)
            print("listening", flush=True)
            while not os.path.exists("\(release.path)"):
                time.sleep(0.02)
            """
        let connect = """
            import socket
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect("\\0\(name)"); print("CONNECTED")
            except OSError as e:
                print("isolated", e.errno)
            """
        async let listener = Sandbox().run(
            SandboxSpec(
                program: "/usr/bin/python3", arguments: ["-c", listen],
                mounts: [BindMount(source: control.path, writable: false)],
                limits: SandboxLimits(wallTimeSeconds: 600)))
        // Ready when the listener's own network namespace shows the bound name (/proc/PID/net is
        // the namespace of PID), not after a guessed delay.
        try await AgentFixture.waitUntil("the listener has bound @\(name)") {
            Box.hostProcesses(containing: "\\0\(name)").contains { entry in
                let pid = entry.prefix { $0 != ":" }
                let table = (try? String(contentsOfFile: "/proc/\(pid)/net/unix", encoding: .utf8)) ?? ""
                return table.contains("@\(name)")
            }
        }
        let concurrent = try await Box.python(connect)
        _ = FileManager.default.createFile(atPath: release.path, contents: Data())
        let first = try await listener
        #expect(first.stdout.text == "listening\n", "\(first.stderr.text)")
        #expect(concurrent.stdout.text.hasPrefix("isolated"), "\(concurrent.stdout.text)")
        #expect(first.confinement.networkNamespace != concurrent.confinement.networkNamespace)
        // Whichever namespace the next runs get, the listener's socket did not survive its run.
        for _ in 0..<3 {
            let later = try await Box.python(connect)
            #expect(later.stdout.text.hasPrefix("isolated"), "\(later.stdout.text)")
        }
    }

    @Test func unixSocketsStillWork() async throws {
        let record = try await Box.python(
            """
            import socket
            a, b = socket.socketpair()
            a.sendall(b"ping")
            print(b.recv(4).decode())
            """)
        #expect(record.stdout.text == "ping\n")
        #expect(record.deniedSyscalls.isEmpty)
    }
}

@Suite(.enabled(if: Box.available, "namespaces are not available on this host"))
struct FilesystemConfinementTests {
    @Test func hostSecretsHomeAndTmpAreInvisible() async throws {
        let marker = "airlock-host-marker-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: "/tmp/\(marker)", contents: Data("host".utf8))
        defer { try? FileManager.default.removeItem(atPath: "/tmp/\(marker)") }
        let record = try await Box.sh(
            "for p in /etc/shadow /root /home /var /run /sys /tmp/\(marker); do "
                + "if [ -e $p ]; then echo VISIBLE $p; else echo absent $p; fi; done; ls -A /tmp | wc -l; ls /")
        #expect(!record.stdout.text.contains("VISIBLE"), "\(record.stdout.text)")
        #expect(record.stdout.text.contains("absent /etc/shadow"))
        #expect(record.stdout.text.contains("\n0\n"))
        let root = record.stdout.text.split(separator: "\n").suffix(from: 8).joined(separator: " ")
        #expect(!root.contains("home") && !root.contains("root") && !root.contains("var"))
    }

    @Test func writesOutsideReadWriteMountsFailAndUsrIsReadOnly() async throws {
        let rw = try Box.writableDirectory()
        let ro = try Box.writableDirectory()
        defer {
            try? FileManager.default.removeItem(at: rw)
            try? FileManager.default.removeItem(at: ro)
        }
        _ = FileManager.default.createFile(atPath: ro.path + "/data.txt", contents: Data("read me\n".utf8))
        let record = try await Box.sh(
            """
            echo ok > \(rw.path)/out.txt && echo wrote-rw
            echo x > \(ro.path)/x 2>/dev/null || echo ro-refused
            cat \(ro.path)/data.txt
            touch /usr/airlock-test 2>/dev/null || echo usr-refused
            touch /etc/x 2>/dev/null || echo etc-refused
            mkdir /newdir 2>/dev/null || echo root-refused
            echo t > /tmp/t && echo tmp-ok
            """,
            mounts: [BindMount(source: rw.path, writable: true), BindMount(source: ro.path, writable: false)])
        let lines = record.stdout.text.split(separator: "\n").map(String.init)
        #expect(lines == ["wrote-rw", "ro-refused", "read me", "usr-refused", "etc-refused", "root-refused", "tmp-ok"])
        #expect(try String(contentsOf: rw.appendingPathComponent("out.txt"), encoding: .utf8) == "ok\n")
        #expect(!FileManager.default.fileExists(atPath: ro.path + "/x"))
    }

    @Test func mountTargetCanDifferFromSource() async throws {
        let dir = try Box.writableDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = FileManager.default.createFile(atPath: dir.path + "/f", contents: Data("inside\n".utf8))
        let record = try await Box.sh(
            "cat /data/in/f; test -e \(dir.path) && echo host-path-visible || echo host-path-hidden",
            mounts: [BindMount(source: dir.path, target: "/data/in", writable: false)])
        #expect(record.stdout.text == "inside\nhost-path-hidden\n")
    }

    @Test func singleFileMountsWork() async throws {
        let dir = try Box.writableDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("tool.sh")
        try "#!/bin/sh\necho from-tool \"$@\"\n".write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path)
        let spec = SandboxSpec(
            program: "/opt/airlock/tool/tool.sh", arguments: ["a", "b"],
            mounts: [BindMount(source: file.path, target: "/opt/airlock/tool/tool.sh", writable: false)])
        // The script was just written; a process cloned by another test in that instant may still
        // hold the writer's descriptor for a moment (ETXTBSY), as with any fork in a threaded program.
        let record = try await Box.runRetryingBusyText(spec)
        #expect(record.stdout.text == "from-tool a b\n")
    }

    @Test func stdinComesFromTheGivenFileOrBytes() async throws {
        let dir = try Box.writableDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.txt")
        try "line one\nline two\n".write(to: input, atomically: true, encoding: .utf8)
        let fromFile = try await Box.sh("wc -l") { $0.stdin = .file(input.path) }
        #expect(fromFile.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        let fromBytes = try await Box.sh("tr a-z A-Z") { $0.stdin = .bytes(Array("hello".utf8)) }
        #expect(fromBytes.stdout.text == "HELLO")
        // A program that never reads its input: the writer sees EPIPE, nothing else is disturbed.
        let ignored = try await Box.sh("exit 0") { $0.stdin = .bytes(Array(repeating: 65, count: 4 << 20)) }
        #expect(ignored.termination == .exited(0))
        let fromNull = try await Box.sh("cat; echo end")
        #expect(fromNull.stdout.text == "end\n")
    }
}

@Suite(.enabled(if: Box.available, "namespaces are not available on this host"))
struct PrivilegeTests {
    @Test func noCapabilitiesNoNewPrivsAndSeccompFilterAreInForce() async throws {
        let record = try await Box.sh(
            "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status; id")
        let fields = Dictionary(
            uniqueKeysWithValues: record.stdout.text.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { return nil }
                return (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))
            })
        for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            #expect(fields[cap] == "0000000000000000", "\(cap)")
        }
        #expect(fields["NoNewPrivs"] == "1")
        #expect(fields["Seccomp"] == "2")
        #expect(record.stdout.text.contains("uid=1000(airlock) gid=1000(airlock) groups=1000(airlock)"))
    }

    @Test func hostProcessesAreInvisibleAndTheHostnameIsTheSandboxs() async throws {
        let record = try await Box.sh(
            "ls /proc | grep -E '^[0-9]+$' | wc -l; hostname; cat /proc/1/cmdline | tr '\\0' ' '")
        let lines = record.stdout.text.split(separator: "\n").map(String.init)
        // pid 1 (this shell) plus the pipeline's own processes, never the host's hundreds.
        #expect((Int(lines[0].trimmingCharacters(in: .whitespaces)) ?? 99) <= 4)
        #expect(lines[1] == "airlock")
        #expect(lines[2].hasPrefix("/bin/sh -c"))
    }

    @Test func aRunsOwnHostnameAndTmpSizeOverrideTheDefaults() async throws {
        let record = try await Box.sh(
            "hostname; cat /etc/hostname; grep -c tools-box /etc/hosts; df -k /tmp | tail -1 | awk '{print $2}'",
            limits: SandboxLimits(wallTimeSeconds: 20, tmpSizeBytes: 2 << 20)
        ) { $0.hostname = "tools-box" }
        #expect(record.stdout.text == "tools-box\ntools-box\n1\n2048\n", "\(record.stdout.text)")
        #expect(record.confinement.mounts.last { $0.target == "/tmp" }?.source == "size=2097152")
    }

    /// The test process's own environment is the host's (no `setenv` here: changing the process
    /// environment races every other test's `getenv` and spawn in the same process).
    @Test func theHostEnvironmentDoesNotLeak() async throws {
        let shellOwn: Set<String> = ["PATH", "DECLARED", "PWD", "SHLVL", "_", "OLDPWD"]
        let hostOnly = ProcessInfo.processInfo.environment.filter { !shellOwn.contains($0.key) && $0.value.count >= 4 }
        try #require(!hostOnly.isEmpty, "the test process has no environment of its own to leak")
        let record = try await Box.sh(
            "env | sort", environment: ["PATH": "/usr/bin:/bin", "DECLARED": "yes"])
        let names = record.stdout.text.split(separator: "\n").map {
            $0.split(separator: "=").first.map(String.init) ?? ""
        }
        #expect(Set(names).isSubset(of: shellOwn), "\(names)")
        for (name, value) in hostOnly { #expect(!record.stdout.text.contains("\(name)=\(value)"), "\(name) leaked") }
        #expect(record.stdout.text.contains("DECLARED=yes"))
    }
}
