import AirlockCore
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
            throw ModelRuntimeError(.io, "cannot create the directory \(url.path)", cause: error)
        }
    }

    /// Replaces `url` with `bytes` atomically (``AtomicFile``): a reader sees the old file or the
    /// new one, never a part.
    static func writeAtomically(_ bytes: [UInt8], to url: URL, mode: mode_t) throws(ModelRuntimeError) {
        do {
            try AtomicFile.replace(url.path, with: bytes, mode: mode)
        } catch {
            throw ModelRuntimeError(
                .io, "cannot write \(url.path) (\(error.stage) \(error.temporary))", cause: error.reason)
        }
    }

    /// Renames `source` over `destination` (same file system).
    static func moveReplacing(_ source: String, to destination: String) throws(ModelRuntimeError) {
        guard rename(source, destination) == 0 else {
            let cause = SystemError()
            unlink(source)
            throw ModelRuntimeError(.io, "cannot move \(source) to \(destination)", cause: cause)
        }
    }

    /// Removes `url` and everything below it; a missing path is fine.
    static func removeTree(_ url: URL) {
        try? FileManager.default.removeItem(at: url)
    }
}
