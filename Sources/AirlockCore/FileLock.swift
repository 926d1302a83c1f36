import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The one way Airlock serialises work between its processes: an exclusive `flock(2)` on a lock
/// file (the model installation, the secret store, starting the background model server).
///
/// The lock belongs to the open file, so it is released by ``release()``, when the object goes
/// away, or when the process ends in any way, a `SIGKILL` included: a crashed holder never leaves
/// a stale lock behind. That also makes a held lock a liveness signal another process can test
/// (``isHeld(path:)``).
public final class FileLock: Sendable {
    /// Why a lock could not be had: the step (`open`, `lock`), the path and the errno (`EWOULDBLOCK`
    /// when another process holds it and the caller did not wait).
    public struct Failure: Error, Sendable, Hashable {
        /// `open` or `lock`.
        public var stage: String
        /// The lock file.
        public var path: String
        /// The errno.
        public var code: Int32
        /// Whether another process holds the lock (only when not waiting).
        public var isHeld: Bool { code == EWOULDBLOCK }
        /// The errno's text.
        public var reason: String { Posix.describe(code) }
    }

    /// The open lock file, `nil` once released.
    private let fd: Mutex<Int32?>

    /// Opens (creating with `mode`) and locks `path`.
    /// - Parameters:
    ///   - path: the lock file; its contents are never read or written.
    ///   - mode: the mode a new lock file gets.
    ///   - wait: block until the lock is free (`true`), or fail at once with `EWOULDBLOCK`.
    /// - Throws: ``Failure``.
    public init(path: String, mode: mode_t = 0o600, wait: Bool) throws(Failure) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw Failure(stage: "open", path: path, code: errno) }
        if Posix.retrying({ flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) }) != 0 {
            let code = errno
            close(fd)
            throw Failure(stage: "lock", path: path, code: code)
        }
        self.fd = Mutex(fd)
    }

    deinit { release() }

    /// Releases the lock (again: nothing).
    public func release() {
        let held = fd.withLock { fd -> Int32? in
            let current = fd
            fd = nil
            return current
        }
        guard let held else { return }
        flock(held, LOCK_UN)
        close(held)
    }

    /// Whether another process (or another open file in this one) holds the lock on `path` now,
    /// found without creating the file (a lock file that does not exist is held by no one) and
    /// without waiting.
    public static func isHeld(path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if Posix.retrying({ flock(fd, LOCK_EX | LOCK_NB) }) != 0 { return errno == EWOULDBLOCK }
        flock(fd, LOCK_UN)
        return false
    }

    /// Whether the locked file is still the one at `path`: a lock file that its holder removes
    /// when done (a pruned workspace's) may have been unlinked between this lock's `open` and its
    /// `flock`, and a lock on an unlinked file excludes no one who opens the path afresh.
    public func isStill(at path: String) -> Bool {
        guard let fd = fd.withLock({ $0 }) else { return false }
        var held = stat()
        var current = stat()
        return fstat(fd, &held) == 0 && stat(path, &current) == 0 && held.st_dev == current.st_dev
            && held.st_ino == current.st_ino
    }

}
