import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The few file-system steps the installer needs, each failing with an error that names the path.
enum FileOperations {
    /// Creates `url` (and its parents) if missing and sets its mode.
    static func ensureDirectory(_ url: URL, mode: Int) throws(ModelRuntimeError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        } catch {
            throw ModelRuntimeError(.io, "cannot create the directory \(url.path)", cause: "\(error)")
        }
    }

    /// Writes `bytes` to a temporary file beside `url`, flushes it, and renames it over `url`, so
    /// that a reader sees the old file or the new one, never a part.
    static func writeAtomically(_ bytes: [UInt8], to url: URL, mode: mode_t) throws(ModelRuntimeError) {
        let temporary = url.path + ".partial"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw ModelRuntimeError(.io, "cannot write \(temporary)", cause: String(cString: strerror(errno)))
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                let cause = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw ModelRuntimeError(.io, "cannot write \(temporary)", cause: cause)
            }
            offset += written
        }
        fchmod(fd, mode)
        fsync(fd)
        close(fd)
        try moveReplacing(temporary, to: url.path)
    }

    /// Renames `source` over `destination` (same file system).
    static func moveReplacing(_ source: String, to destination: String) throws(ModelRuntimeError) {
        guard rename(source, destination) == 0 else {
            let cause = String(cString: strerror(errno))
            unlink(source)
            throw ModelRuntimeError(.io, "cannot move \(source) to \(destination)", cause: cause)
        }
    }

    /// Removes `url` and everything below it; a missing path is fine.
    static func removeTree(_ url: URL) {
        try? FileManager.default.removeItem(at: url)
    }
}
