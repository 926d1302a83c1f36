import AirlockCore
import Foundation
import Trace

/// What checking a token found: its claims, or why it must be refused.
public enum TokenVerification: Sendable, Hashable {
    /// Signature good, not expired, audience matches.
    case valid(CallToken)
    /// Refused, with the reason (and the claims when they could be read).
    case invalid(reason: String, token: CallToken?)
}

/// Checks per-call tokens offline with the token-signing public key (what a site's service does).
public struct TokenVerifier: Sendable {
    /// The public key (`airlock secrets token-key --export`).
    public let publicKey: TracePublicKey

    /// A verifier for `publicKey`.
    public init(publicKey: TracePublicKey) { self.publicKey = publicKey }

    /// Checks signature, expiry and (when given) audience.
    /// - Parameters:
    ///   - compact: the token, `PAYLOAD.SIGNATURE`.
    ///   - audience: the audience the checking service expects, or `nil` to accept any.
    ///   - now: the time to check expiry against (default: now).
    public func verify(
        _ compact: String, audience: String? = nil, now: Int64 = Int64(Date().timeIntervalSince1970)
    ) -> TokenVerification {
        let parts = compact.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Base64URL.decode(parts[0]), let signature = Base64URL.decode(parts[1])
        else { return .invalid(reason: "not a token: expected base64url(payload).base64url(signature)", token: nil) }
        guard publicKey.isValidSignature(signature, for: payload) else {
            return .invalid(reason: "the signature does not verify with key \(publicKey.keyID)", token: nil)
        }
        guard let claims = try? JSONParser().parse(payload), let token = CallToken(claims: claims) else {
            return .invalid(reason: "the payload is not a call token's claims", token: nil)
        }
        if now >= token.expiresAt {
            return .invalid(reason: "expired at \(SecretEntry.iso(Double(token.expiresAt)))", token: token)
        }
        if let audience, token.audience != audience {
            return .invalid(
                reason: "minted for audience \(token.audience ?? "(none)"), not \(audience)", token: token)
        }
        return .valid(token)
    }
}
