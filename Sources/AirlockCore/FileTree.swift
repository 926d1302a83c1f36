import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The one way Airlock walks, reads and removes a directory tree that something else wrote (a
/// run's workspace, which its tools filled): every step is taken relative to an open directory
/// descriptor (`openat`, `fstatat`, `unlinkat`) and no symbolic link is ever followed, neither the
/// tree's own root nor anything below it, so a link a tool left cannot lead a listing, a digest
/// or a removal out of the tree.
///
/// Names are kept as the bytes the directory holds; ``display(_:)`` shows a name that is not
/// UTF-8 with its bad bytes as `\xNN`. `EINTR` is retried in one place (``retrying(_:)``).
public enum FileTree {
    /// Why a step failed: the step, the path, and the errno (0 when the failure is a bound, not
    /// a system call's).
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// The step: `open`, `read directory`, `stat`, `read`, `remove`, …
        public var stage: String
        /// The path the step was working on.
        public var path: String
        /// The errno, or 0.
        public var code: Int32
        /// What went wrong, in words.
        public var reason: String

        /// A failure of a system call, its reason the errno's text.
        init(_ stage: String, _ path: String, errno code: Int32) {
            self.stage = stage
            self.path = path
            self.code = code
            self.reason = Posix.describe(code)
        }

        /// A failure that is not a system call's (a bound was reached).
        init(_ stage: String, _ path: String, reason: String) {
            self.stage = stage
            self.path = path
            self.code = 0
            self.reason = reason
        }

        public var description: String { "\(stage) \(path): \(reason)" }
    }

    /// What an entry is, as `lstat` says (a link is a link, never what it points to).
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A regular file.
        case file
        /// A directory.
        case directory
        /// A symbolic link (never followed).
        case symlink
        /// A FIFO, socket or device node.
        case other
    }

    /// One entry below the root, as `fstatat(AT_SYMLINK_NOFOLLOW)` saw it.
    public struct Entry: Sendable, Hashable {
        /// Its name and the names of the directories above it, from the root down, as bytes.
        public var components: [[UInt8]]
        /// What it is.
        public var kind: Kind
        /// Its size in bytes (a link's: the length of its target).
        public var size: Int64
        /// Its modification time, nanoseconds since 1970.
        public var modified: Int64
        /// Its status change time (which no unprivileged process can set back), nanoseconds since 1970.
        public var changed: Int64
        /// Its inode number.
        public var inode: UInt64
        /// Its permission bits.
        public var permissions: UInt32

        /// The path relative to the root, `/`-separated, for people (``display(_:)``).
        public var path: String { FileTree.display(components) }
        /// The path's bytes, `/`-separated: what entries are compared and sorted by.
        public var key: [UInt8] { Array(components.joined(separator: [UInt8(ascii: "/")])) }
    }

    /// A listing of a tree: its entries in path order, and why it stops short, if it does.
    public struct Listing: Sendable, Hashable {
        /// Every entry found, sorted by ``Entry/key``.
        public var entries: [Entry]
        /// Why entries may be missing (a bound was reached, a directory could not be read), or `nil`.
        public var cut: String?
    }

    /// What reading one file gave.
    public struct Contents: Sendable, Hashable {
        /// The SHA-256 of every byte read, 64 lowercase hex digits.
        public var sha256: String
        /// How many bytes were read (the whole file).
        public var bytes: Int64
        /// The file's bytes when there are at most the `keep` asked for, else `nil`.
        public var kept: [UInt8]?
    }

    /// Bytes read per step when hashing: 64 KiB.
    static let chunkBytes = 64 << 10

    /// Lists every entry below `root` (not `root` itself), at most `maxEntries` of them and
    /// `maxDepth` directory levels below it (0: the root's own entries only).
    /// - Throws: ``Failure`` when `root` cannot be opened as a directory (a link is refused).
    public static func list(_ root: String, maxEntries: Int, maxDepth: Int) throws(Failure) -> Listing {
        let fd = try openDirectory(AT_FDCWD, cString(root), path: root)
        defer { close(fd) }
        var entries: [Entry] = []
        var cut: String?
        func note(_ reason: String) { if cut == nil { cut = reason } }
        func walk(_ directory: Int32, _ above: [[UInt8]], depth: Int) {
            let names: [[UInt8]]
            do {
                names = try children(directory, path: display(above))
            } catch {
                note("\(error)")
                return
            }
            for name in names {
                guard entries.count < maxEntries else {
                    note("more than \(maxEntries) entries; the rest are not listed")
                    return
                }
                let components = above + [name]
                guard let entry = try? stat(directory, name, components: components) else { continue }
                entries.append(entry)
                guard entry.kind == .directory else { continue }
                guard depth < maxDepth else {
                    note("directories more than \(maxDepth + 1) levels deep are not listed")
                    continue
                }
                do {
                    let child = try openDirectory(directory, cString(name), path: display(components))
                    walk(child, components, depth: depth + 1)
                    close(child)
                } catch {
                    note("\(error)")
                }
            }
        }
        walk(fd, [], depth: 0)
        entries.sort { $0.key.lexicographicallyPrecedes($1.key) }
        return Listing(entries: entries, cut: cut)
    }

    /// Reads the regular file at `components` below `root`, hashing all of it and keeping its
    /// bytes when there are at most `keep`. Every directory on the way and the file itself are
    /// opened without following links; a FIFO or device is refused, never opened for reading.
    /// - Throws: ``Failure`` naming the step and the path.
    public static func read(_ root: String, _ components: [[UInt8]], keep: Int) throws(Failure) -> Contents {
        let path = display(components)
        guard let name = components.last else { throw Failure("read", root, reason: "no file named") }
        let parent = try openParent(root, components)
        defer { close(parent) }
        let fd = retrying { Glibc.openat(parent, cString(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        guard fd >= 0 else { throw Failure("open", path, errno: errno) }
        defer { close(fd) }
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0 else { throw Failure("stat", path, errno: errno) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw Failure("read", path, reason: "not a regular file") }
        let hasher = SHA256Hasher()
        var kept: [UInt8] = []
        var total: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: chunkBytes)
        while true {
            let n = retrying { buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
            guard n >= 0 else { throw Failure("read", path, errno: errno) }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            if total + Int64(n) <= Int64(keep) { kept += buffer[..<n] }
            total += Int64(n)
        }
        return Contents(
            sha256: Hex.encode(hasher.finalize()), bytes: total, kept: total <= Int64(keep) ? kept : nil)
    }

    /// The target of the symbolic link at `components` below `root` (read, never followed), or
    /// `nil` when it cannot be read.
    public static func linkTarget(_ root: String, _ components: [[UInt8]]) -> [UInt8]? {
        guard let name = components.last, let parent = try? openParent(root, components) else { return nil }
        defer { close(parent) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = Glibc.readlinkat(parent, cString(name), &buffer, Int(PATH_MAX))
        guard n >= 0 else { return nil }
        return buffer[..<n].map { UInt8(bitPattern: $0) }
    }

    /// Removes the entry `name` of `directory` and everything below it, never following a link:
    /// a link is removed itself, a directory is emptied through its descriptor (its owner's
    /// write and search bits restored first when a tool took them away) and then removed.
    /// `directory` itself must not be a link. An entry that is already gone is no failure.
    /// - Parameter maxDepth: the most directory levels removed below `name`; a deeper tree is
    ///   refused at that level (and the part above it is left).
    /// - Throws: ``Failure`` naming the step and the path; what was removed before it stays removed.
    public static func remove(_ name: [UInt8], in directory: String, maxDepth: Int) throws(Failure) {
        let fd = try openDirectory(AT_FDCWD, cString(directory), path: directory)
        defer { close(fd) }
        try removeEntry(fd, name, path: display([name]), depth: 0, maxDepth: maxDepth)
    }

    /// Whether `path` is a directory itself, not a link to one.
    public static func isDirectory(_ path: String) -> Bool {
        guard let st = Posix.linkStatus(path) else { return false }
        return st.st_mode & S_IFMT == S_IFDIR
    }

    /// A relative path for people: the components joined by `/`, each shown as UTF-8 when it is,
    /// with any other byte as `\xNN`.
    public static func display(_ components: [[UInt8]]) -> String {
        components.map { name in
            if let text = String(validating: name, as: UTF8.self) { return text }
            var out = ""
            var rest = name[...]
            while !rest.isEmpty {
                // The longest valid prefix as text, then one bad byte escaped.
                var length = rest.count
                while length > 0, String(validating: rest.prefix(length), as: UTF8.self) == nil { length -= 1 }
                if length > 0 {
                    out += String(decoding: rest.prefix(length), as: UTF8.self)
                    rest = rest.dropFirst(length)
                } else if let byte = rest.first {
                    out += "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
                    rest = rest.dropFirst()
                }
            }
            return out
        }.joined(separator: "/")
    }

    // MARK: The system calls, each wrapped once

    /// Runs `call` again while it fails with `EINTR` (``Posix/retrying(_:)``).
    static func retrying<T: BinaryInteger>(_ call: () -> T) -> T { Posix.retrying(call) }

    /// `name` as a NUL-terminated C string.
    static func cString(_ name: [UInt8]) -> [CChar] { name.map { CChar(bitPattern: $0) } + [0] }

    /// `path` as a NUL-terminated C string.
    static func cString(_ path: String) -> [CChar] { cString(Array(path.utf8)) }

    /// `openat(O_DIRECTORY | O_NOFOLLOW)`: a link is refused (`ELOOP`), not followed.
    /// The corresponding C function is `openat`.
    static func openDirectory(_ parent: Int32, _ name: [CChar], path: String) throws(Failure) -> Int32 {
        let fd = retrying { Glibc.openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw Failure("open", path, errno: errno) }
        return fd
    }

    /// The directory holding `components`' last name, reached from `root` one component at a time.
    static func openParent(_ root: String, _ components: [[UInt8]]) throws(Failure) -> Int32 {
        var fd = try openDirectory(AT_FDCWD, cString(root), path: root)
        for (index, name) in components.dropLast().enumerated() {
            let next: Int32
            do {
                next = try openDirectory(fd, cString(name), path: display(Array(components[...index])))
            } catch {
                close(fd)
                throw error
            }
            close(fd)
            fd = next
        }
        return fd
    }

    /// The names in the open directory `fd` (`.` and `..` left out), read through a duplicate of it.
    /// The corresponding C functions are `fdopendir` and `readdir`.
    static func children(_ fd: Int32, path: String) throws(Failure) -> [[UInt8]] {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw Failure("read directory", path, errno: errno) }
        guard let stream = fdopendir(copy) else {
            let code = errno
            close(copy)
            throw Failure("read directory", path, errno: code)
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw Failure("read directory", path, errno: errno) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
        return names
    }

    /// `fstatat(AT_SYMLINK_NOFOLLOW)` of `name` in `directory`, as an entry.
    /// The corresponding C function is `fstatat`.
    static func stat(_ directory: Int32, _ name: [UInt8], components: [[UInt8]]) throws(Failure) -> Entry {
        var st = Glibc.stat()
        guard fstatat(directory, cString(name), &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw Failure("stat", display(components), errno: errno)
        }
        let kind: Kind =
            switch st.st_mode & S_IFMT {
            case S_IFREG: .file
            case S_IFDIR: .directory
            case S_IFLNK: .symlink
            default: .other
            }
        return Entry(
            components: components, kind: kind, size: Int64(st.st_size),
            modified: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
            changed: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec), inode: UInt64(st.st_ino),
            permissions: UInt32(st.st_mode & 0o7777))
    }

    /// Removes `name` of the open directory `parent` and everything below it.
    /// The corresponding C functions are `unlinkat`, `fchmodat` and `fchmod`.
    static func removeEntry(_ parent: Int32, _ name: [UInt8], path: String, depth: Int, maxDepth: Int)
        throws(Failure)
    {
        let entry: Entry
        do {
            entry = try stat(parent, name, components: [name])
        } catch {
            if error.code == ENOENT { return }
            throw Failure(error.stage, path, errno: error.code)
        }
        guard entry.kind == .directory else {
            guard unlinkat(parent, cString(name), 0) == 0 || errno == ENOENT else {
                throw Failure("remove", path, errno: errno)
            }
            return
        }
        guard depth < maxDepth else {
            throw Failure("remove", path, reason: "more than \(maxDepth) directory levels deep; left in place")
        }
        // A tool may have taken its own directory's bits away; it is ours to empty. `fchmodat`
        // follows links, but the entry was just seen, without following, to be a directory.
        if entry.permissions & 0o700 != 0o700 { _ = fchmodat(parent, cString(name), 0o700, 0) }
        let fd = try openDirectory(parent, cString(name), path: path)
        do {
            for child in try children(fd, path: path) {
                try removeEntry(fd, child, path: path + "/" + display([child]), depth: depth + 1, maxDepth: maxDepth)
            }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        guard unlinkat(parent, cString(name), AT_REMOVEDIR) == 0 || errno == ENOENT else {
            throw Failure("remove", path, errno: errno)
        }
    }
}

extension String {
    /// The string with `0` in front until it is `width` characters long.
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
