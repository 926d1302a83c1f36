import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The one way Airlock serialises work between its processes: an exclusive `flock(2)` on a lock
/// file (the model installation, the secret store, starting the background model server).
///
/// The lock belongs to the open file, so it is released by ``release()`` or when the process
/// ends in any way, a `SIGKILL` included: a crashed holder never leaves a stale lock behind.
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
        public var reason: String { String(cString: strerror(code)) }
    }

    private let fd: Int32

    /// Opens (creating with `mode`) and locks `path`.
    /// - Parameters:
    ///   - path: the lock file; its contents are never read or written.
    ///   - mode: the mode a new lock file gets.
    ///   - wait: block until the lock is free (`true`), or fail at once with `EWOULDBLOCK`.
    /// - Throws: ``Failure``.
    public init(path: String, mode: mode_t = 0o600, wait: Bool) throws(Failure) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw Failure(stage: "open", path: path, code: errno) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            throw Failure(stage: "lock", path: path, code: code)
        }
        self.fd = fd
    }

    /// Releases the lock; the object must not be used afterwards.
    public func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
