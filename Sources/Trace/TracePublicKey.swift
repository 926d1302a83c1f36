import AirlockCore
import CCrypto
import Foundation

/// An Ed25519 public key that checkpoints are verified against.
///
/// Exported as PEM (SubjectPublicKeyInfo, readable by `openssl pkey -pubin`); hex of the 32 raw
/// bytes is accepted too.
public struct TracePublicKey: Sendable, Hashable {
    /// The 32 raw key bytes.
    public var raw: [UInt8]

    /// Creates a key from its 32 raw bytes.
    /// - Throws: ``TraceError`` `key-invalid` for the wrong length.
    public init(raw: [UInt8]) throws(TraceError) {
        guard raw.count == 32 else {
            throw TraceError(.keyInvalid, "an Ed25519 public key has 32 bytes, not \(raw.count)")
        }
        self.raw = raw
    }

    /// The key id: `ed25519:` and the first 16 hex digits of the SHA-256 of the raw key.
    public var keyID: String { "ed25519:" + String(SHA256.hex(raw).prefix(16)) }

    // DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE, AlgorithmIdentifier
    // 1.3.101.112, BIT STRING of 32 bytes.
    private static let spkiPrefix: [UInt8] = [
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ]

    /// The PEM form (`-----BEGIN PUBLIC KEY-----`).
    public var pem: String {
        let base64 = Data(Self.spkiPrefix + raw).base64EncodedString()
        return "-----BEGIN PUBLIC KEY-----\n\(base64)\n-----END PUBLIC KEY-----\n"
    }

    /// Parses PEM or 64 hex digits.
    /// - Parameter text: the key file's contents.
    /// - Throws: ``TraceError`` `key-invalid` when it is neither.
    public init(text: String) throws(TraceError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let bytes = Hex.decode(trimmed) {
            try self.init(raw: bytes)
            return
        }
        let body = trimmed.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard trimmed.hasPrefix("-----BEGIN PUBLIC KEY-----"), let der = Data(base64Encoded: body),
            der.count == 44, Array(der.prefix(12)) == Self.spkiPrefix
        else {
            throw TraceError(
                .keyInvalid, "not an Ed25519 public key (expected PEM 'BEGIN PUBLIC KEY' or 64 hex digits)")
        }
        try self.init(raw: Array(der.suffix(32)))
    }

    /// Whether `signature` is this key's Ed25519 signature over `message`.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == 64,
            let key = raw.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            })
        else { return false }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        // Ed25519 hashes internally: the digest argument must be NULL.
        guard EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1 else { return false }
        return EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
    }
}
