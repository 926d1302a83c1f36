import CCrypto
import Foundation

/// libcrypto's SHA-256 implementation, fetched from its provider once for the process: an EVP call
/// given the legacy `EVP_sha256()` handle (or the one-shot `SHA256()`) fetches it again every
/// time, which costs more than hashing a trace event (`nil` only if the default provider is
/// missing, when every digest below falls back to that legacy handle).
nonisolated(unsafe) private let fetchedSHA256: OpaquePointer? = EVP_MD_fetch(nil, "SHA2-256", nil)

/// SHA-256 through OpenSSL's libcrypto: pins, BPF program digests, trace hash chains.
public enum SHA256 {
    /// The SHA-256 of `bytes`.
    public static func hash<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        let digest = fetchedSHA256 ?? EVP_sha256()
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            _ = EVP_Digest(buffer.baseAddress, buffer.count, &out, &length, digest, nil)
        }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBufferPointer { _ = EVP_Digest($0.baseAddress, $0.count, &out, &length, digest, nil) }
        }
        return out
    }

    /// The SHA-256 of `first` followed by `second`, hashed in place (no concatenated copy, no
    /// allocation but the digest): what every hash chain link is, `SHA-256(prev ‖ body)`.
    public static func hash(_ first: [UInt8], _ second: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            first.withUnsafeBytes { a in
                second.withUnsafeBytes { b in
                    airlock_sha256_concat(a.baseAddress, a.count, b.baseAddress, b.count, out.baseAddress)
                }
            }
            count = 32
        }
    }

    /// The SHA-256 of `bytes` as 64 lowercase hex digits.
    public static func hex<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Hex.encode(hash(bytes))
    }

    /// The SHA-256 of a file's contents as 64 lowercase hex digits, read in chunks so that a
    /// large artefact (a model file) is never held whole.
    /// - Parameters:
    ///   - url: a regular file.
    ///   - chunkBytes: bytes read per step (default 1 MiB).
    /// - Throws: the file system's error when the file cannot be opened or read.
    public static func hex(contentsOf url: URL, chunkBytes: Int = 1 << 20) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let hasher = SHA256Hasher()
        while let chunk = try handle.read(upToCount: chunkBytes), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return Hex.encode(hasher.finalize())
    }
}

/// An incremental SHA-256, for files and streams too large to hold at once.
public final class SHA256Hasher {
    private var context: OpaquePointer?

    /// Starts a new digest.
    public init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex2(context, fetchedSHA256 ?? EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds bytes into the digest.
    public func update(_ buffer: UnsafeRawBufferPointer) {
        _ = EVP_DigestUpdate(context, buffer.baseAddress, buffer.count)
    }

    /// Feeds bytes into the digest.
    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Finishes the digest and returns its 32 bytes; the hasher starts afresh afterwards.
    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        EVP_DigestFinal_ex(context, &out, &length)
        EVP_DigestInit_ex2(context, fetchedSHA256 ?? EVP_sha256(), nil)
        return out
    }
}

/// Lowercase hexadecimal encoding and decoding.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Encodes bytes as lowercase hex.
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex (either case); `nil` for odd length or a non-hex character.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
