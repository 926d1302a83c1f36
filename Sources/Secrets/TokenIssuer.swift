import AirlockCore
import Foundation
import Trace

/// Mints per-call tokens with the token-signing key `AIRLOCK_HOME/keys/token-signing.key`
/// (an Ed25519 seed of 32 bytes, mode 0600), a key used for nothing else.
public struct TokenIssuer: Sendable {
    /// The signing key.
    public let key: TraceSigningKey
    /// The longest lifetime a token may have. Default 3600 s.
    public static let maximumTTLSeconds = 3600
    /// The lifetime when a manifest names none. Default 60 s.
    public static let defaultTTLSeconds = 60

    /// An issuer with `key`.
    public init(key: TraceSigningKey) { self.key = key }

    /// Loads the token-signing key from `keysDirectory`, creating it on first use.
    /// - Throws: ``SecretsError`` when the key is unreadable, unsafe or malformed.
    public static func load(keysDirectory: URL, create: Bool = true) throws(SecretsError) -> TokenIssuer? {
        let url = keysDirectory.appendingPathComponent(SecretStore.tokenKeyFileName)
        guard let seed = try SecretFiles.key(at: url, what: "token-signing key", create: create) else { return nil }
        do {
            return TokenIssuer(key: try TraceSigningKey(seed: seed))
        } catch {
            throw SecretsError(.keyInvalid, "token-signing key \(url.path)", cause: error.message)
        }
    }

    /// Signs `token` and returns its compact form.
    /// - Throws: ``SecretsError`` `key-invalid` when signing fails.
    public func sign(_ token: CallToken) throws(SecretsError) -> String {
        let payload = token.claims.canonicalBytes
        let signature: [UInt8]
        do {
            signature = try key.sign(payload)
        } catch {
            throw SecretsError(.keyInvalid, "sign a token for \(token.tool)", cause: error.message)
        }
        return Base64URL.encode(payload) + "." + Base64URL.encode(signature)
    }

    /// Mints and signs a token for one call.
    /// - Parameters:
    ///   - secret: the store entry the token stands for.
    ///   - runID: the run.
    ///   - tool: the tool.
    ///   - argumentsDigest: the call's argument digest.
    ///   - audience: the service it is for, if any.
    ///   - ttlSeconds: its lifetime, clamped to 1…``maximumTTLSeconds``.
    ///   - now: the issue time (default: now).
    /// - Throws: ``SecretsError`` `key-invalid` when the random id or the signature fails.
    public func mint(
        secret: String, runID: String, tool: String, argumentsDigest: String, audience: String?,
        ttlSeconds: Int = TokenIssuer.defaultTTLSeconds, now: Int64 = Int64(Date().timeIntervalSince1970)
    ) throws(SecretsError) -> (token: CallToken, compact: String) {
        let ttl = Int64(min(max(ttlSeconds, 1), Self.maximumTTLSeconds))
        let token = CallToken(
            secret: secret, runID: runID, tool: tool, argumentsDigest: argumentsDigest, audience: audience,
            issuedAt: now, expiresAt: now + ttl, id: Hex.encode(try SecretCipher.randomBytes(16)))
        return (token, try sign(token))
    }
}
