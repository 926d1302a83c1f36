import AirlockCore
import CCrypto
import Testing

@testable import Trace

/// Checkpoints are signed with libsodium; every verifier (Airlock's own, through OpenSSL, and any
/// other Ed25519 implementation) must accept them, and Ed25519 being deterministic, the signature
/// must be the very one OpenSSL makes from the same seed.
@Suite("Trace signing: libsodium's signatures are OpenSSL's")
struct TraceSigningTests {
    /// OpenSSL's signature of `message` under `seed` (`EVP_DigestSign`), the reference.
    static func openSSLSignature(seed: [UInt8], _ message: [UInt8]) throws -> [UInt8] {
        let key = try #require(
            seed.withUnsafeBufferPointer { EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32) })
        defer { EVP_PKEY_free(key) }
        let context = try #require(EVP_MD_CTX_new())
        defer { EVP_MD_CTX_free(context) }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        #expect(EVP_DigestSignInit(context, nil, nil, nil, key) == 1)
        #expect(EVP_DigestSign(context, &signature, &length, message, message.count) == 1)
        return signature
    }

    @Test func signaturesMatchOpenSSLAndVerify() throws {
        for round in 0..<50 {
            let seed = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ round) }
            let key = try TraceSigningKey(seed: seed)
            let message = Array("checkpoint \(round) ".utf8) + [UInt8](repeating: UInt8(round), count: round * 7)
            let signature = try key.sign(message)
            #expect(signature == (try Self.openSSLSignature(seed: seed, message)))
            #expect(key.publicKey.isValidSignature(signature, for: message))
            var forged = signature
            forged[round % 64] ^= 0x01
            #expect(!key.publicKey.isValidSignature(forged, for: message))
        }
    }

    @Test func aWrongSeedLengthIsRefused() {
        #expect(throws: TraceError.self) { try TraceSigningKey(seed: [1, 2, 3]) }
    }
}
