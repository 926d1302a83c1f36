#if canImport(Glibc)
    import Glibc
#endif

/// The one place POSIX failures are put into words and `EINTR` is retried: every module's system
/// calls go through ``retrying(_:)`` and report an `errno` as a ``SystemError`` (Sandbox adds its
/// own calls in an extension).
public enum Posix {
    /// `strerror` plus the symbolic name: `Permission denied (EACCES)`, or `(errno N)` for a code
    /// without a name here.
    public static func describe(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        if let name = name(of: code) { return "\(text) (\(name))" }
        return "\(text) (errno \(code))"
    }

    /// The symbolic name of `code` (`EACCES`), for the codes Airlock's calls meet.
    public static func name(of code: Int32) -> String? { errnoNames[code] }

    private static let errnoNames: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EACCES: "EACCES", EEXIST: "EEXIST", ENOTDIR: "ENOTDIR",
        EISDIR: "EISDIR", EINVAL: "EINVAL", ENOSPC: "ENOSPC", EROFS: "EROFS", EBUSY: "EBUSY",
        ENOSYS: "ENOSYS", ENOMEM: "ENOMEM", EAGAIN: "EAGAIN", ENOEXEC: "ENOEXEC", E2BIG: "E2BIG",
        EOVERFLOW: "EOVERFLOW", ELOOP: "ELOOP", ENAMETOOLONG: "ENAMETOOLONG", EMFILE: "EMFILE",
        EBADF: "EBADF", EFAULT: "EFAULT", EIO: "EIO", ESRCH: "ESRCH", EUSERS: "EUSERS",
        ECONNREFUSED: "ECONNREFUSED", ETIMEDOUT: "ETIMEDOUT", ENETUNREACH: "ENETUNREACH",
        EHOSTUNREACH: "EHOSTUNREACH", ECONNRESET: "ECONNRESET", EPIPE: "EPIPE", ETXTBSY: "ETXTBSY",
        EXDEV: "EXDEV", ENOTEMPTY: "ENOTEMPTY", EINTR: "EINTR",
    ]

    /// The name the password database gives user id `uid` (`root`, `nobody`), or `nil` when it has
    /// no entry (or the lookup fails). The corresponding C function is `getpwuid_r`.
    public static func accountName(uid: UInt32) -> String? {
        var size = 1024
        while true {
            var entry = passwd()
            var found: UnsafeMutablePointer<passwd>?
            var buffer = [CChar](repeating: 0, count: size)
            // The name points into the buffer: read it while the buffer is lent.
            let (code, name) = buffer.withUnsafeMutableBufferPointer { bytes -> (Int32, String?) in
                guard let base = bytes.baseAddress else { return (EINVAL, nil) }
                let code = getpwuid_r(uid_t(uid), &entry, base, bytes.count, &found)
                let name: UnsafeMutablePointer<CChar>? = code == 0 && found != nil ? entry.pw_name : nil
                return (code, name.map { String(cString: $0) })
            }
            switch code {
            case EINTR: continue
            // An entry longer than the buffer: grow it, bounded.
            case ERANGE where size < 1 << 20: size *= 4
            default: return name
            }
        }
    }

    /// The status of the entry at `path` itself (`lstat`: a link is not followed), or `nil` when
    /// there is none.
    public static func linkStatus(_ path: String) -> stat? {
        var st = stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    /// `path` with every symbolic link, `.` and `..` resolved, as realpath(3) gives it: one call,
    /// where Foundation's `resolvingSymlinksInPath` reads each component through `URL`s (the tool
    /// runner resolves every mount of every call).
    /// - Throws: ``SystemError``: `ENOENT` when a component, or a link's target, is missing
    ///   (a dangling link), `ELOOP`, `EACCES`, `ENOTDIR`.
    public static func realPath(_ path: String) throws(SystemError) -> String {
        guard let resolved = realpath(path, nil) else { throw SystemError() }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Runs `call` again while it fails with `EINTR` (a negative result and `errno == EINTR`), so
    /// that a signal arriving mid-call never surfaces as a failure.
    @inline(__always)
    public static func retrying<Result: BinaryInteger>(_ call: () -> Result) -> Result {
        var result: Result
        repeat { result = call() } while result < 0 && errno == EINTR
        return result
    }
}

/// An `errno` as an error, kept as the cause of a module's error: its code for callers that tell
/// failures apart, its words (``Posix/describe(_:)``) for people.
public struct SystemError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `errno` value.
    public let code: Int32

    /// The error for `code` (by default the calling thread's current `errno`).
    public init(_ code: Int32 = errno) {
        self.code = code
    }

    /// `Permission denied (EACCES)`.
    public var description: String { Posix.describe(code) }

    /// Whether this is `EACCES`: a path someone may not open or pass through.
    public var isAccessDenied: Bool { code == EACCES }
}
