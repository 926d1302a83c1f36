import AirlockCore
import Foundation
import Sandbox

/// Builds the model server from its pinned source distribution inside Airlock's own sandbox.
///
/// The source is third-party code and its build scripts run arbitrary commands, so the unpacking
/// and the whole CMake build run confined like any tool: no network (a build that tries to
/// download something fails here, not at a site), the archive read-only, only the build directory
/// writable, every limit named. Progress is read from the build log while it runs.
struct ServerBuild {
    /// The limits of a build.
    struct Limits {
        /// The longest a build may take, in seconds. Default 2 hours (about 4 minutes here, on 2 cores).
        var wallTimeSeconds: Double = 7200
        /// Processes and threads (compilers in parallel). Default 512.
        var maxProcesses = 512
        /// The largest file the build may write (static libraries). Default 2 GiB.
        var fileSizeBytes: UInt64 = 2 << 30
        /// The private `/tmp` (compiler temporaries). Default 1 GiB.
        var tmpSizeBytes: UInt64 = 1 << 30
    }

    let lock: ModelLock.Server
    let store: ModelStore
    var limits = Limits()
    /// Compiler jobs in parallel. Default: the processors online.
    var jobs = ProcessInfo.processInfo.activeProcessorCount

    /// Where things are inside the sandbox.
    private static let inputPath = "/in"
    private static let buildPath = "/build"

    /// The shell script run in the sandbox: unpack, configure, build one target; all output to
    /// the log, whose `[N/M]` lines are the progress.
    var script: String {
        let flags = lock.cmakeFlags.map(Self.quote).joined(separator: " ")
        return """
            set -e
            exec > \(Self.buildPath)/build.log 2>&1
            mkdir -p \(Self.buildPath)/src
            tar -xzf \(Self.inputPath)/\(Self.quote(lock.source.file)) -C \(Self.buildPath)/src --no-same-owner
            cmake -S \(Self.buildPath)/src/\(Self.quote(lock.sourceDirectory)) -B \(Self.buildPath)/out -G Ninja \(flags)
            cmake --build \(Self.buildPath)/out --target \(Self.quote(lock.target)) -j \(max(1, jobs))
            """
    }

    private static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Runs the build and installs the binary; returns its SHA-256 and the build's duration.
    /// - Parameter progress: called with `(done, total)` build steps as the log shows them.
    /// - Throws: ``ModelRuntimeError`` `build-failed` with the log's last lines, or `io`.
    func run(progress: @escaping @Sendable (Int, Int) -> Void) async throws(ModelRuntimeError) -> (String, Double) {
        for tool in ["cmake", "ninja", "c++", "tar"] where !HostCommand.exists(tool) {
            throw ModelRuntimeError(
                .buildFailed,
                "building \(lock.name) needs \(tool), which is not installed (tools/install-deps installs cmake, ninja-build and g++)"
            )
        }
        let directory = store.buildDirectory
        FileOperations.removeTree(directory)
        try FileOperations.ensureDirectory(directory, mode: 0o755)
        defer { FileOperations.removeTree(directory) }
        let sandbox = Sandbox()
        let owner = sandbox.hostIdentity
        guard chown(directory.path, owner.uid, owner.gid) == 0 else {
            throw ModelRuntimeError(
                .io, "cannot give \(directory.path) to the sandbox user \(owner.uid)",
                cause: SystemError())
        }
        var spec = SandboxSpec(
            program: "/bin/sh", arguments: ["-c", script],
            environment: ["PATH": SandboxSpec.defaultPath, "HOME": Self.buildPath, "LC_ALL": "C"],
            mounts: [
                BindMount(
                    source: store.path(of: lock.source).path, target: "\(Self.inputPath)/\(lock.source.file)",
                    writable: false),
                BindMount(source: directory.path, target: Self.buildPath, writable: true),
            ],
            workingDirectory: Self.buildPath)
        spec.limits = SandboxLimits(
            wallTimeSeconds: limits.wallTimeSeconds, maxProcesses: limits.maxProcesses,
            fileSizeBytes: limits.fileSizeBytes, openFiles: 1024, outputBytesPerStream: 64 << 10,
            tmpSizeBytes: limits.tmpSizeBytes)
        let log = directory.appendingPathComponent("build.log")
        let watcher = Task.detached {
            var last = (0, 0)
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                if let step = Self.lastStep(inLog: log), step != last {
                    last = step
                    progress(step.0, step.1)
                }
            }
        }
        let started = Date()
        let record: ExecutionRecord
        do {
            record = try await sandbox.run(spec)
        } catch {
            watcher.cancel()
            throw ModelRuntimeError(
                .buildFailed, "the confined build of \(lock.name) could not start", cause: error)
        }
        watcher.cancel()
        let seconds = Date().timeIntervalSince(started)
        let built = directory.appendingPathComponent("out/bin/\(lock.target)")
        guard record.termination == .exited(0), FileManager.default.isExecutableFile(atPath: built.path) else {
            let tail = Self.tail(of: log, lines: 30)
            let kept = store.root.appendingPathComponent("build-failed.log")
            try? FileManager.default.removeItem(at: kept)
            try? FileManager.default.copyItem(at: log, to: kept)
            let how =
                record.timedOut
                ? "timed out after \(Int(limits.wallTimeSeconds)) s" : "ended with exit status \(record.shellExitCode)"
            throw ModelRuntimeError(
                .buildFailed, "the confined build of \(lock.name) \(how); the full log is in \(kept.path)", cause: tail)
        }
        try FileOperations.ensureDirectory(store.bin, mode: 0o755)
        let destination = store.serverBinary(lock)
        let partial = destination.path + ".partial"
        unlink(partial)
        do {
            try FileManager.default.copyItem(atPath: built.path, toPath: partial)
        } catch {
            throw ModelRuntimeError(.io, "cannot copy the built \(lock.target) to \(partial)", cause: error)
        }
        _ = chown(partial, geteuid(), getegid())
        chmod(partial, 0o755)
        try FileOperations.moveReplacing(partial, to: destination.path)
        do {
            return (try SHA256.hex(contentsOf: destination), seconds)
        } catch {
            throw ModelRuntimeError(.io, "cannot read \(destination.path)", cause: error)
        }
    }

    /// The last `[N/M]` step in the build log (ninja's progress), if any.
    static func lastStep(inLog log: URL) -> (Int, Int)? {
        let text = tail(of: log, lines: 5)
        for line in text.split(separator: "\n").reversed() where line.hasPrefix("[") {
            let inner = line.dropFirst().prefix { $0 != "]" }
            let parts = inner.split(separator: "/")
            if parts.count == 2, let done = Int(parts[0]), let total = Int(parts[1]) { return (done, total) }
        }
        return nil
    }

    /// The last `lines` lines of a file (reading at most its last 16 KiB).
    static func tail(of file: URL, lines: Int) -> String {
        guard let handle = FileHandle(forReadingAtPath: file.path) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 16384 ? size - 16384 : 0)
        let text = String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
