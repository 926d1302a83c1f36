import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starting a program and waiting for it, as the anchors and the CLI figures need: `posix_spawn`
/// with stdin, stdout and stderr on /dev/null, and `waitpid` retried on EINTR.
enum Spawn {
    /// Runs `argv` (an absolute program path first) with `environment` and waits for it.
    /// - Throws: ``BenchError`` when it cannot start or does not exit 0.
    static func run(_ argv: [String], environment: [String] = ["PATH=/usr/bin:/bin"]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in Int32(0)...2 {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        let env = environment.map { strdup($0) } + [nil]
        defer { for e in env { free(e) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, env)
        guard rc == 0 else { throw BenchError("posix_spawn(\(argv[0])): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw BenchError("\(argv.joined(separator: " ")) exited with status \(status)") }
    }

    /// Runs `argv` through Foundation and returns its standard output (not timed: set-up and helpers).
    /// - Throws: ``BenchError`` when it fails, with its standard error.
    static func output(_ argv: [String], environment: [String: String]? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError(
                "\(argv.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errData, as: UTF8.self))"
            )
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `bwrap --unshare-all` with the same kind of read-only root as Airlock's: /usr bound, the
    /// merged-usr symlinks, ld.so.cache, a new /proc, /dev and /tmp.
    static func bwrapArgv(_ bwrap: String, _ program: [String]) -> [String] {
        var argv = [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr"]
        for dir in ["/bin", "/sbin", "/lib", "/lib64"] {
            if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: dir) {
                argv += ["--symlink", link, dir]
            } else if FileManager.default.fileExists(atPath: dir) {
                argv += ["--ro-bind", dir, dir]
            }
        }
        return argv + [
            "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache", "--proc", "/proc", "--dev", "/dev",
            "--tmpfs", "/tmp", "--",
        ] + program
    }

    /// The installed bwrap, if any.
    static var bwrap: String? {
        ["/usr/bin/bwrap", "/bin/bwrap"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
