import Foundation
import Testing

@testable import Sandbox

/// A bind's host path is resolved once, to a descriptor, without following a symlink
/// (`openat2` with `RESOLVE_NO_SYMLINKS`), and the tree is cloned from that descriptor: a symlink
/// on the way is refused when the run is planned, and one swapped in after planning is refused
/// when the bind is made, rather than followed.
@Suite(.enabled(if: Box.available, "namespaces are not available on this host"))
struct BindSourceResolutionTests {
    @Test func aSymlinkOnTheWayToAMountSourceIsRefusedBeforeAnythingRuns() async throws {
        let dir = try Box.writableDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let real = dir.appendingPathComponent("real")
        try FileManager.default.createDirectory(
            at: real.appendingPathComponent("inner"), withIntermediateDirectories: true)
        let link = dir.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: real.path)
        for source in [link.path, link.path + "/inner"] {
            do {
                _ = try await Sandbox().run(
                    SandboxSpec(
                        program: "/bin/ls", arguments: ["/data"],
                        mounts: [BindMount(source: source, target: "/data", writable: false)]))
                Issue.record("\(source) was bound through a symlink")
            } catch {
                #expect(error.code == .invalidSpec)
                #expect(error.errno == ELOOP)
                #expect(error.message.contains("mount source \(source)"), "\(error.message)")
                #expect(error.message.contains("ELOOP"), "\(error.message)")
            }
        }
    }

    @Test(arguments: [true, false])
    func aMountSourceSwappedForASymlinkAfterPlanningIsRefused(templates: Bool) async throws {
        let dir = try Box.writableDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        let elsewhere = dir.appendingPathComponent("elsewhere")
        for (directory, file) in [(data, "planned.txt"), (elsewhere, "swapped-in.txt")] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try "x".write(to: directory.appendingPathComponent(file), atomically: true, encoding: .utf8)
        }
        // The run opens its stdin, a FIFO, after planning and before the spawn: once that open
        // has a writer, the plan has been checked, and the source is swapped for a symlink.
        let fifo = dir.appendingPathComponent("stdin")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        let spec = SandboxSpec(
            program: "/bin/ls", arguments: ["/data"], environment: ["PATH": SandboxSpec.defaultPath],
            mounts: [BindMount(source: data.path, target: "/data", writable: false)], stdin: .file(fifo.path),
            limits: SandboxLimits(wallTimeSeconds: 20))
        let sandbox = Sandbox(configuration: Sandbox.Configuration(templates: templates))
        let run = Task { () -> Result<ExecutionRecord, SandboxError> in
            do throws(SandboxError) { return .success(try await sandbox.run(spec)) } catch { return .failure(error) }
        }
        let swapped = try await Self.swapOnceReaderWaits(
            fifo: fifo.path,
            swap: {
                try FileManager.default.moveItem(at: data, to: dir.appendingPathComponent("data-planned"))
                try FileManager.default.createSymbolicLink(atPath: data.path, withDestinationPath: elsewhere.path)
            })
        #expect(swapped)
        if !swapped {
            // Never leave the run blocked opening its stdin: a writer that comes and goes lets
            // the open finish (and the run end) so that the failure is reported, not a hang.
            let fd = open(fifo.path, O_RDWR | O_CLOEXEC)
            if fd >= 0 { close(fd) }
        }
        switch await run.value {
        case .success(let record):
            Issue.record("the swapped-in symlink was followed: \(record.stdout.text)")
        case .failure(let error):
            #expect(error.code == .setupFailed, "\(error)")
            #expect(error.errno == ELOOP, "\(error)")
            #expect(error.message.contains(data.path), "\(error.message)")
            #expect(error.message.contains("ELOOP"), "\(error.message)")
        }
    }

    /// Waits (off the cooperative pool, at most 30 s) until a reader has `fifo` open, runs `swap`,
    /// then closes the writer end. `false` when no reader came.
    static func swapOnceReaderWaits(fifo: String, swap: @escaping @Sendable () throws -> Void) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                // A generous bound: in the whole suite on 2 loaded cores a run has waited over
                // 30 s for its turn to spawn.
                let deadline = Date().addingTimeInterval(180)
                while Date() < deadline {
                    let fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
                    if fd >= 0 {
                        defer { close(fd) }
                        do {
                            try swap()
                            continuation.resume(returning: true)
                        } catch {
                            continuation.resume(throwing: error)
                        }
                        return
                    }
                    usleep(10_000)
                }
                continuation.resume(returning: false)
            }
        }
    }
}
