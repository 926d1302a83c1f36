import AirlockCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The file operations the store and its keys share: mode checks, exact reads, atomic writes.
///
/// Every file written here is created with its final mode (never widened afterwards) and lands
/// by `rename` after an `fsync`, so a crash leaves either the old file or the new one.
public enum SecretFiles {
    /// The mode of `path` (permission bits), or `nil` when it does not exist.
    /// - Throws: ``SecretsError`` `io` when it exists but cannot be examined.
    public static func mode(of path: String) throws(SecretsError) -> mode_t? {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return nil }
            throw SecretsError(.io, "examine \(path)", cause: SystemError())
        }
        return st.st_mode & 0o7777
    }

    /// Throws when `path` exists and group or others have any access to it.
    /// - Parameter what: what the file is, for the message (`secret store`, `secrets key`).
    /// - Throws: ``SecretsError`` `unsafe-permissions` naming the path, its mode and the fix.
    public static func requirePrivate(_ path: String, what: String, expected: mode_t) throws(SecretsError) {
        guard let mode = try mode(of: path), mode & 0o077 != 0 else { return }
        throw SecretsError(
            .unsafePermissions,
            "\(what) \(path) has mode \(String(mode, radix: 8)); group and others must have no access "
                + "(run: chmod \(String(expected, radix: 8)) \(path))")
    }

    /// Creates `directory` (and its parents) if missing, the last component with `mode`.
    /// - Throws: ``SecretsError`` `io` naming the directory.
    public static func makeDirectory(_ directory: URL, mode: mode_t) throws(SecretsError) {
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: Int(mode)])
        } catch {
            throw SecretsError(.io, "create directory \(directory.path)", cause: error)
        }
    }

    /// The whole contents of `path`.
    /// - Throws: ``SecretsError`` `io` naming the path and the errno.
    public static func read(_ path: String, what: String) throws(SecretsError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecretsError(
                .io, "cannot read \(what) \(path)",
                cause: SystemError(access(path, R_OK) == 0 ? EIO : errno))
        }
        return Array(data)
    }

    /// Writes `bytes` to `path` atomically: a new temporary file beside it (mode `mode`,
    /// `O_EXCL`), `fsync`, `rename` over the old one, `fsync` of the directory.
    /// - Throws: ``SecretsError`` `io` naming the stage and the path.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t) throws(SecretsError) {
        do {
            try AtomicFile.replace(path, with: bytes, mode: mode)
        } catch {
            throw SecretsError(.io, "\(error.stage) \(error.temporary) (writing \(path))", cause: error.reason)
        }
    }

    /// Loads a 32-byte key, creating it (random, mode 0600, directory 0700) when `create` is set
    /// and it does not exist yet.
    /// - Returns: the key, or `nil` when it does not exist and `create` is false.
    /// - Throws: ``SecretsError`` `unsafe-permissions` for a key group/other can access,
    ///   `key-invalid` for a key that is not 32 bytes, `io` when it cannot be read or written.
    public static func key(at url: URL, what: String, create: Bool) throws(SecretsError) -> [UInt8]? {
        let path = url.path
        if try mode(of: path) == nil {
            guard create else { return nil }
            try makeDirectory(url.deletingLastPathComponent(), mode: 0o700)
            try writeAtomically(try SecretCipher.randomBytes(SecretCipher.keyBytes), to: path, mode: 0o600)
        }
        try requirePrivate(path, what: what, expected: 0o600)
        let bytes = try read(path, what: what)
        guard bytes.count == SecretCipher.keyBytes else {
            throw SecretsError(
                .keyInvalid,
                "\(what) \(path) has \(bytes.count) bytes, not \(SecretCipher.keyBytes); restore it from a backup")
        }
        return bytes
    }
}
