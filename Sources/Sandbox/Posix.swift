import AirlockCore
import CSandbox

#if canImport(Glibc)
    import Glibc
#endif

/// The few POSIX calls the Swift side of the sandbox makes, each wrapped once, added to
/// AirlockCore's ``Posix`` (which retries EINTR and puts an errno into words): failures become
/// ``SandboxError`` values naming the call and the path.
extension Posix {
    /// `pipe2(O_CLOEXEC)`, with both ends moved to descriptors >= 3 so the child's dup3 onto
    /// 0, 1 and 2 never clobbers one before it is used.
    /// The corresponding C function is `pipe2`.
    static func pipe() throws(SandboxError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard al_pipe_cloexec(&fds) == 0 else { throw failure("pipe2", errno) }
        return (try aboveStdio(fds[0]), try aboveStdio(fds[1]))
    }

    /// Opens `path` close-on-exec, at a descriptor >= 3.
    /// The corresponding C function is `open`.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(SandboxError) -> Int32 {
        let fd = retrying { Glibc.open(path, flags | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw failure("open(\(path))", errno) }
        return try aboveStdio(fd)
    }

    /// Closes a descriptor, ignoring errors (there is nothing useful to do about them here).
    static func close(_ fd: Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// Writes all of `text` to `path` (an existing file, e.g. under /sys/fs/cgroup).
    static func writeFile(_ path: String, _ text: String) throws(SandboxError) {
        let fd = try open(path, O_WRONLY)
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { buffer in retrying { Glibc.write(fd, buffer.baseAddress, buffer.count) } }
        guard written == bytes.count else { throw failure("write(\(path))", written < 0 ? errno : EIO) }
    }

    /// Reads a small text file (cgroup counters, /proc entries); `nil` when it cannot be read.
    static func readSmallFile(_ path: String, limit: Int = 65536) -> String? {
        readFile(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Reads at most `limit` bytes of a file; `nil` when it cannot be opened or read.
    static func readFile(_ path: String, limit: Int) -> [UInt8]? {
        guard let fd = try? open(path, O_RDONLY) else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: limit)
        var total = 0
        while total < limit {
            let n = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return retrying { Glibc.read(fd, base + total, limit - total) }
            }
            if n < 0 { return nil }
            if n == 0 { break }
            total += n
        }
        return Array(buffer[..<total])
    }

    /// `lstat`; `nil` when the path does not exist.
    static func lstatPath(_ path: String) -> Glibc.stat? {
        var st = Glibc.stat()
        return Glibc.lstat(path, &st) == 0 ? st : nil
    }

    /// The status of a path resolved as a sandbox bind resolves it (`openat2` following no
    /// symlink, then `fstat`), or `nil` and the errno (`ELOOP`: a symlink on the way).
    static func statBindSource(_ path: String) -> (status: Glibc.stat?, errno: Int32) {
        var st = Glibc.stat()
        let rc = al_stat_bind_source(path, &st)
        return rc == 0 ? (st, 0) : (nil, -rc)
    }

    /// `stat` (following links); `nil` when the path does not exist.
    static func statPath(_ path: String) -> Glibc.stat? {
        var st = Glibc.stat()
        return stat(path, &st) == 0 ? st : nil
    }

    /// The target of a symbolic link.
    static func readlink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = Glibc.readlink(path, &buffer, Int(PATH_MAX))
        guard n >= 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `mkdir`, treating an existing directory as success.
    static func mkdir(_ path: String, mode: mode_t = 0o755) throws(SandboxError) {
        if Glibc.mkdir(path, mode) != 0 && errno != EEXIST { throw failure("mkdir(\(path))", errno) }
    }

    /// `rmdir`; returns the errno on failure.
    @discardableResult
    static func rmdir(_ path: String) -> Int32 {
        Glibc.rmdir(path) == 0 ? 0 : errno
    }

    static func failure(_ what: String, _ code: Int32) -> SandboxError {
        SandboxError(.setupFailed, "\(what): \(describe(code))", errno: code)
    }

    private static func aboveStdio(_ fd: Int32) throws(SandboxError) -> Int32 {
        guard fd < 3 else { return fd }
        let moved = fcntl(fd, F_DUPFD_CLOEXEC, 3)
        let code = errno
        _ = Glibc.close(fd)
        guard moved >= 0 else { throw failure("fcntl(F_DUPFD_CLOEXEC)", code) }
        return moved
    }
}
