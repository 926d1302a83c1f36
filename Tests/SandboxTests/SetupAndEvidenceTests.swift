import AirlockTestSupport
import CSandbox
import Foundation
import Testing

@testable import Sandbox

@Suite(.enabled(if: Box.available, "namespaces are not available on this host"))
struct SetupErrorTests {
    @Test func aMissingProgramIsAClearExecError() async throws {
        do {
            _ = try await Sandbox().run(SandboxSpec(program: "/usr/bin/no-such-program"))
            Issue.record("a missing program ran")
        } catch {
            #expect(error.code == .execFailed)
            #expect(error.message.contains("execve(/usr/bin/no-such-program)"))
            #expect(error.message.contains("ENOENT"))
        }
        do {
            _ = try await Sandbox().run(SandboxSpec(program: "no-such-program-either"))
            Issue.record("a missing program ran")
        } catch {
            #expect(error.message.contains("searched PATH inside the sandbox"))
        }
    }

    @Test func aHostFileOutsideTheSandboxIsNotExecutable() async throws {
        // The program must exist inside the sandbox, not merely on the host.
        let dir = try Box.writableDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("x.sh")
        try "#!/bin/sh\necho no\n".write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        await #expect(throws: SandboxError.self) { try await Sandbox().run(SandboxSpec(program: script.path)) }
    }

    @Test func parentStepsAreNamedByTheirEnum() {
        let cgroup = SandboxError.parentStep(
            al_child_failure(
                stage: Int32(AL_STAGE_NONE.rawValue), index: Int32(al_parent_step.cgroup.rawValue), err: EIO))
        #expect(cgroup.code == .setupFailed)
        #expect(cgroup.message.hasPrefix("sandbox setup: join cgroup: "), "\(cgroup.message)")
        #expect(cgroup.errno == EIO)
        let unknown = SandboxError.parentStep(
            al_child_failure(stage: Int32(AL_STAGE_NONE.rawValue), index: 99, err: EIO))
        #expect(unknown.message.hasPrefix("sandbox setup: parent step 99: "), "\(unknown.message)")
        #expect(al_template_step(index: 2)?.name == "read the builder's status")
        #expect(al_template_step(index: 3) == nil)
        #expect(al_template_step(index: -1) == nil)
    }

    @Test func badMountsAreRejectedBeforeAnythingRuns() async throws {
        let cases: [(BindMount, String)] = [
            (BindMount(source: "/nonexistent-\(UUID().uuidString)", writable: false), "mount source"),
            (BindMount(source: "/usr", target: "relative/path", writable: false), "must be an absolute path"),
            (BindMount(source: "/usr", target: "/data/../etc", writable: false), "'..'"),
            (BindMount(source: "/usr", target: "/proc/x", writable: false), "/proc is the sandbox's own"),
            (BindMount(source: "/usr", target: "/", writable: false), "the root is the sandbox's own"),
        ]
        for (mount, expected) in cases {
            do {
                _ = try await Sandbox().run(SandboxSpec(program: "/bin/true", mounts: [mount]))
                Issue.record("\(mount) accepted")
            } catch {
                #expect(error.code == .invalidSpec)
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
    }

    @Test func aMissingWorkingDirectoryNamesTheStage() async throws {
        do {
            _ = try await Sandbox().run(SandboxSpec(program: "/bin/true", workingDirectory: "/does/not/exist"))
            Issue.record("ran in a missing directory")
        } catch {
            #expect(error.code == .setupFailed)
            #expect(error.message == "chdir(/does/not/exist): No such file or directory (ENOENT)")
        }
    }

    @Test func exitCodesAndSignalsAreOutcomesNotErrors() async throws {
        let exited = try await Box.sh("exit 7")
        #expect(exited.termination == .exited(7))
        #expect(exited.shellExitCode == 7)
        // The program is pid 1 of its namespace: a signal it has no handler for, sent from inside,
        // is dropped (as for any init), so the shell goes on and exits by its own path.
        let asInit = try await Box.sh("kill -TERM $$; sleep 1; echo survived")
        #expect(asInit.termination == .exited(0))
        #expect(asInit.stdout.text == "survived\n")
        // Its children are ordinary processes: the same signal ends one (128 + 15).
        let child = try await Box.sh("sh -c 'kill -TERM $$; sleep 1'; echo $?")
        #expect(child.stdout.text == "143\n")
        // A real fault is delivered even to pid 1: the outcome is the signal, not an error.
        let segv = try await Box.python("import ctypes; ctypes.string_at(0)")
        #expect(segv.termination == .signaled(11))
        #expect(segv.shellExitCode == 139)
    }

    @Test func cancellingTheTaskKillsTheSandbox() async throws {
        let marker = "\(Int.random(in: 100_000...999_999)).75"
        let task = Task { try await Box.sh("sleep \(marker)", limits: SandboxLimits(wallTimeSeconds: 60)) }
        try await AgentFixture.waitUntil("the sandboxed sleep runs") {
            !Box.hostProcesses(containing: "sleep \(marker)").isEmpty
        }
        task.cancel()
        let record = try await task.value
        #expect(record.termination == .signaled(9))
        #expect(Box.hostProcesses(containing: "sleep \(marker)").isEmpty)
    }
}

@Suite(.enabled(if: Box.available, "namespaces are not available on this host"))
struct EvidenceTests {
    @Test func theRecordCarriesTheConfinementEvidence() async throws {
        let record = try await Box.sh("true")
        let evidence = record.confinement
        #expect(evidence.namespaces == ["user", "mnt", "pid", "net", "ipc", "uts", "cgroup"])
        #expect(evidence.uid == 1000 && evidence.gid == 1000)
        #expect(evidence.uidMap.hasPrefix("1000 "))
        #expect(!evidence.uidMap.hasSuffix(" 0 1"))
        #expect(evidence.seccompBPFSHA256.count == 64)
        #expect(evidence.seccompInstructions > 10)
        #expect(evidence.noNewPrivs)
        #expect(evidence.mounts.contains { $0.target == "/usr" && $0.kind == "bind" && $0.options.hasPrefix("ro") })
        #expect(evidence.mounts.contains { $0.target == "/proc" && $0.kind == "proc" })
        #expect(evidence.mounts.contains { $0.target == "/tmp" && $0.kind == "tmpfs" })
        #expect(evidence.landlockABI == SandboxProbe.current.landlockABI)
        #expect(evidence.degradedLayers.isEmpty)
        if SandboxProbe.current.seccompUserNotif { #expect(evidence.seccompDenyAction.contains("USER_NOTIF")) }
    }

    @Test func prespawnedChildrenNeverCarryAnotherConfigurationsIdentity() async throws {
        // Children are prespawned for the most recent shape; a run with another identity must not
        // get one of them, and the next default run must not get one of its.
        let other = Sandbox(configuration: .init(innerUID: 2000, innerGID: 2001))
        for _ in 0..<3 {
            let custom = try await other.run(SandboxSpec(program: "/bin/sh", arguments: ["-c", "id -u; id -g"]))
            #expect(custom.stdout.text == "2000\n2001\n", "\(custom.stdout.text)")
            #expect(custom.confinement.uidMap.hasPrefix("2000 "))
            let normal = try await Box.sh("id -u")
            #expect(normal.stdout.text == "1000\n")
        }
    }

    @Test func theSameProfileCompilesToTheSameProgram() async throws {
        let a = try await Box.sh("true")
        let b = try await Box.sh("true")
        #expect(a.confinement.seccompBPFSHA256 == b.confinement.seccompBPFSHA256)
        let tuned = try await Box.sh("true") { $0.syscallGroups = [.processTuning] }
        #expect(tuned.confinement.seccompBPFSHA256 != a.confinement.seccompBPFSHA256)
    }

    @Test func theRecordRoundTripsThroughJSON() async throws {
        let record = try await Box.sh("echo out; echo err >&2; exit 3")
        let data = try JSONEncoder().encode(record)
        let decoded = try JSONDecoder().decode(ExecutionRecord.self, from: data)
        #expect(decoded == record)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"exitCode\":3"))
    }

    @Test func landlockRestrictsTheFilesystemAsASecondLayer() async throws {
        try #require(SandboxProbe.current.landlockABI > 0, "Landlock is not available")
        // A process may normally rename itself through /proc/self/comm; the mounts allow it, but
        // Landlock grants /proc read access only, so this write is refused by the second layer.
        let record = try await Box.sh("echo renamed > /proc/self/comm 2>/dev/null && echo WROTE || echo refused")
        #expect(record.stdout.text == "refused\n")
        // A /tmp of another size is a new mount: it gets its own rule, so writing there works.
        let tmp = try await Box.sh(
            "echo ok > /tmp/x && cat /tmp/x", limits: SandboxLimits(wallTimeSeconds: 20, tmpSizeBytes: 1 << 20))
        #expect(tmp.stdout.text == "ok\n", "\(tmp.stderr.text)")
    }
}

@Suite(.enabled(if: Box.available, "namespaces are not available on this host"))
struct SandboxRuntimeTests {
    @Test func aSandboxOnItsOwnRuntimeRunsOnItsOwnPools() async throws {
        let runtime = SandboxRuntime(maximumIdleNetworks: 2, prespawnTarget: 1, maximumSpawners: 2)
        #expect(runtime.warmPool !== SandboxRuntime.shared.warmPool)
        #expect(runtime.networks !== SandboxRuntime.shared.networks)
        let sandbox = Sandbox(configuration: Sandbox.Configuration(), runtime: runtime)
        for round in 0..<3 {
            let record = try await sandbox.run(SandboxSpec(program: "/bin/echo", arguments: ["round \(round)"]))
            #expect(record.termination == .exited(0))
            #expect(record.stdout.text == "round \(round)\n")
        }
        runtime.warmPool.drain()
        runtime.releaser.settle()
        #expect(runtime.warmPool.waitingPids.isEmpty)
    }
}
