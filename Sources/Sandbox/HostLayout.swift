import AirlockCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What of the host's file system every sandbox root reproduces, looked up once per process:
/// which system directories exist and which are symlinks (merged-`/usr` systems), where
/// `/etc/localtime` points, and the dynamic loader's cache (re-read when the file changes).
struct HostLayout: Sendable {
    /// One top-level entry reproduced in the sandbox.
    enum Entry: Sendable, Hashable {
        /// A host directory bound read-only at the same path.
        case directory(String)
        /// A symbolic link recreated with the same target.
        case symlink(String, String)
    }

    /// `/usr`, `/bin`, `/sbin`, `/lib*` as this host has them.
    var system: [Entry]
    /// `/etc/localtime` when it is a symlink (into `/usr/share/zoneinfo`, visible inside).
    var localtime: Entry?
    /// `/etc` directories bound read-only (`/etc/alternatives`).
    var etcDirectories: [String]

    /// The layout of this host, read on first use.
    static let current = HostLayout()

    private init() {
        system = MountPlan.systemPaths.compactMap { path in
            guard let st = Posix.lstatPath(path) else { return nil }
            if (st.st_mode & S_IFMT) == S_IFLNK, let link = Posix.readlink(path) { return .symlink(path, link) }
            if (st.st_mode & S_IFMT) == S_IFDIR { return .directory(path) }
            return nil
        }
        if let st = Posix.lstatPath("/etc/localtime"), (st.st_mode & S_IFMT) == S_IFLNK,
            let link = Posix.readlink("/etc/localtime")
        {
            localtime = .symlink("/etc/localtime", link)
        } else {
            localtime = nil
        }
        etcDirectories = MountPlan.etcDirectories.filter {
            guard let st = Posix.statPath($0) else { return false }
            return (st.st_mode & S_IFMT) == S_IFDIR
        }
    }

    /// Most bytes of `/etc/ld.so.cache` copied into a sandbox (it is tens of KiB on Debian).
    static let loaderCacheLimit = 512 << 10

    private struct CachedFile {
        var inode: UInt64
        var mtime: Int
        var size: Int
        var content: [UInt8]
    }

    private static let loaderCacheCopy = Mutex<CachedFile?>(nil)

    /// The host's `/etc/ld.so.cache`, re-read only when its inode, size or mtime changed
    /// (`ldconfig` replaces it); `nil` when absent or larger than ``loaderCacheLimit``.
    static func loaderCache(path: String = "/etc/ld.so.cache") -> [UInt8]? {
        guard let st = Posix.statPath(path), (st.st_mode & S_IFMT) == S_IFREG, Int(st.st_size) <= loaderCacheLimit
        else {
            return nil
        }
        let key = (UInt64(st.st_ino), Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec), Int(st.st_size))
        if let hit = loaderCacheCopy.withLock({ $0 }), hit.inode == key.0, hit.mtime == key.1, hit.size == key.2 {
            return hit.content
        }
        guard let content = Posix.readFile(path, limit: loaderCacheLimit) else { return nil }
        loaderCacheCopy.withLock { $0 = CachedFile(inode: key.0, mtime: key.1, size: key.2, content: content) }
        return content
    }
}
