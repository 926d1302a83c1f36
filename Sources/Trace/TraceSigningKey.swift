import AirlockCore
import CCrypto
import CSodium
import Foundation

/// The local Ed25519 key used only to sign trace checkpoints.
///
/// Kept at `<keys>/trace-signing.ed25519` as the 64 hex digits of the private seed, mode 0600.
/// A key file that group or others may read is refused: a leaked key lets anyone forge a trace.
public final class TraceSigningKey: Sendable {
    /// The key's public half.
    public let publicKey: TracePublicKey
    // EVP_PKEY is reference-counted and immutable after creation: it holds the seed for export.
    nonisolated(unsafe) private let key: OpaquePointer
    /// libsodium's secret key (seed ‖ public key, 64 bytes), which signs: the same deterministic
    /// Ed25519 signature as OpenSSL's in under half the time (a step signs two checkpoints).
    /// Written once at creation, read-only after, wiped at deinit.
    nonisolated(unsafe) private let secret: UnsafeMutablePointer<UInt8>

    /// Whether libsodium initialised (`sodium_init`, once per process; safe to call again).
    private static let sodiumReady: Bool = sodium_init() >= 0

    /// The file name inside the keys directory.
    public static let fileName = "trace-signing.ed25519"

    /// Creates a key from a 32-byte seed.
    /// - Throws: ``TraceError`` `key-invalid` for a bad seed.
    public init(seed: [UInt8]) throws(TraceError) {
        guard seed.count == 32,
            let key = seed.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            })
        else { throw TraceError(.keyInvalid, "an Ed25519 seed has 32 bytes, not \(seed.count)") }
        var raw = [UInt8](repeating: 0, count: 32)
        var length = 32
        guard EVP_PKEY_get_raw_public_key(key, &raw, &length) == 1, length == 32 else {
            EVP_PKEY_free(key)
            throw TraceError(.keyInvalid, "could not derive the Ed25519 public key")
        }
        let secret = UnsafeMutablePointer<UInt8>.allocate(capacity: Int(crypto_sign_SECRETKEYBYTES))
        var sodiumPublic = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        // Both libraries derive the public key from the seed; they must agree, or nothing signed
        // here would verify anywhere.
        guard Self.sodiumReady, crypto_sign_seed_keypair(&sodiumPublic, secret, seed) == 0, sodiumPublic == raw
        else {
            sodium_memzero(secret, Int(crypto_sign_SECRETKEYBYTES))
            secret.deallocate()
            EVP_PKEY_free(key)
            throw TraceError(.keyInvalid, "libsodium could not derive the Ed25519 key pair from the seed")
        }
        self.key = key
        self.secret = secret
        self.publicKey = try TracePublicKey(raw: raw)
    }

    deinit {
        sodium_memzero(secret, Int(crypto_sign_SECRETKEYBYTES))
        secret.deallocate()
        EVP_PKEY_free(key)
    }

    /// A new random key (not stored).
    /// - Throws: ``TraceError`` `key-invalid` when the random generator fails.
    public static func generate() throws(TraceError) -> TraceSigningKey {
        var seed = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&seed, 32) == 1 else { throw TraceError(.keyInvalid, "RAND_bytes failed") }
        return try TraceSigningKey(seed: seed)
    }

    /// Loads the key from `directory`, creating directory (0700) and key (0600) on first use.
    /// - Parameter directory: the keys directory under `AIRLOCK_HOME`.
    /// - Throws: ``TraceError`` `key-permissions` for a file group/other can access,
    ///   `key-invalid` for an unreadable or malformed file.
    public static func loadOrCreate(directory: URL) throws(TraceError) -> TraceSigningKey {
        let path = directory.appendingPathComponent(fileName).path
        if FileManager.default.fileExists(atPath: path) { return try load(path: path) }
        let key = try generate()
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw TraceError(.keyInvalid, "create keys directory \(directory.path)", cause: error)
        }
        var seed = [UInt8](repeating: 0, count: 32)
        var length = 32
        guard EVP_PKEY_get_raw_private_key(key.key, &seed, &length) == 1 else {
            throw TraceError(.keyInvalid, "could not export the new trace signing key")
        }
        // Created with 0600 from the start, never widened: no window where the seed is readable.
        // Exclusively: of several processes starting at once on a new home (workers), one key wins
        // and every process signs with it.
        do throws(AtomicFile.Failure) {
            _ = try AtomicFile.create(path, with: Array((Hex.encode(seed) + "\n").utf8), mode: 0o600)
        } catch {
            throw TraceError(.keyInvalid, "create trace signing key \(path): \(error.stage): \(error.reason)")
        }
        return try load(path: path)
    }

    /// Loads an existing key file.
    /// - Throws: ``TraceError`` `key-permissions` when group/other bits are set, `key-invalid` otherwise.
    public static func load(path: String) throws(TraceError) -> TraceSigningKey {
        let mode: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o777
        } catch {
            throw TraceError(.keyInvalid, "read trace signing key \(path)", cause: error)
        }
        guard mode & 0o077 == 0 else {
            throw TraceError(
                .keyPermissions,
                "trace signing key \(path) has mode \(String(mode, radix: 8)); it must be 0600 (run: chmod 600 \(path))"
            )
        }
        guard let data = FileManager.default.contents(atPath: path),
            let seed = Hex.decode(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw TraceError(.keyInvalid, "trace signing key \(path) is not 64 hex digits") }
        return try TraceSigningKey(seed: seed)
    }

    /// Signs `message` with Ed25519 (libsodium's `crypto_sign_detached`).
    /// - Throws: ``TraceError`` `key-invalid` when signing fails.
    public func sign(_ message: [UInt8]) throws(TraceError) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        var length: UInt64 = 0
        guard crypto_sign_detached(&signature, &length, message, UInt64(message.count), secret) == 0,
            length == UInt64(crypto_sign_BYTES)
        else { throw TraceError(.keyInvalid, "Ed25519 signing failed") }
        return signature
    }
}
