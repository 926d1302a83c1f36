import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The one way Airlock replaces a small state file (the secret store, a key, the model
/// installation record, the model server's state): a new temporary file beside it, created with
/// its final mode and `O_EXCL`, written whole, `fsync`ed, renamed over the old one, and the
/// directory `fsync`ed. A crash leaves the old file or the new one, never a part, and the file is
/// never readable by anyone its mode excludes, not even for an instant.
public enum AtomicFile {
    /// Why a step failed: the step, the file it was working on, and the errno.
    public struct Failure: Error, Sendable, Hashable {
        /// `open`, `write`, `fsync` or `rename`.
        public var stage: String
        /// The temporary file the step was working on.
        public var temporary: String
        /// The errno.
        public var code: Int32
        /// The errno's text.
        public var reason: String { Posix.describe(code) }
    }

    /// Writes every byte of `bytes` to `fd`, retrying after `EINTR`.
    /// - Returns: `nil`, or the errno of the write that failed.
    public static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Int32? {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                Posix.retrying { Glibc.write(fd, buffer.baseAddress.map { $0 + written }, bytes.count - written) }
            }
            guard n > 0 else { return n < 0 ? errno : EIO }
            written += n
        }
        return nil
    }

    /// Replaces `path` with `bytes`, atomically, the new file having `mode`.
    /// - Throws: ``Failure`` naming the step; the temporary file is removed.
    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t) throws(Failure) {
        let temporary = try written(bytes, beside: path, mode: mode)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw Failure(stage: "rename", temporary: temporary, code: code)
        }
        syncDirectory(of: path)
    }

    /// Creates `path` with `bytes` and `mode` unless it exists, atomically: of several processes
    /// creating it at once, exactly one succeeds and the others find its file whole.
    /// - Returns: `false` when `path` already existed (nothing changed).
    /// - Throws: ``Failure`` naming the step; the temporary file is removed.
    public static func create(_ path: String, with bytes: [UInt8], mode: mode_t) throws(Failure) -> Bool {
        let temporary = try written(bytes, beside: path, mode: mode)
        defer { unlink(temporary) }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST { return false }
            throw Failure(stage: "link", temporary: temporary, code: errno)
        }
        syncDirectory(of: path)
        return true
    }

    /// A new temporary file beside `path`, created `O_EXCL` with `mode`, holding `bytes`, fsynced.
    private static func written(_ bytes: [UInt8], beside path: String, mode: mode_t) throws(Failure) -> String {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(stage: "open", temporary: temporary, code: errno) }
        if let code = writeAll(bytes, to: fd) {
            Glibc.close(fd)
            unlink(temporary)
            throw Failure(stage: "write", temporary: temporary, code: code)
        }
        guard fsync(fd) == 0 else {
            let code = errno
            Glibc.close(fd)
            unlink(temporary)
            throw Failure(stage: "fsync", temporary: temporary, code: code)
        }
        Glibc.close(fd)
        return temporary
    }

    private static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let directoryFD = Glibc.open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            Glibc.close(directoryFD)
        }
    }
}
