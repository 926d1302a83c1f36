import AirlockCore
import Foundation
import Testing
import Trace

@testable import Secrets

/// Per-call tokens: minted, verified offline with the public key, refused when they should be.
@Suite("Per-call tokens")
struct CallTokenTests {
    let issuer: TokenIssuer
    let verifier: TokenVerifier

    init() throws {
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-keys-\(UUID().uuidString)")
        issuer = try #require(try TokenIssuer.load(keysDirectory: keys))
        verifier = TokenVerifier(publicKey: try TracePublicKey(text: issuer.key.publicKey.pem))
    }

    func mint(audience: String? = "tickets", ttl: Int = 60, now: Int64 = 1_000_000) throws -> (CallToken, String) {
        try issuer.mint(
            secret: "TICKETS_API", runID: "run-1", tool: "tickets.create",
            argumentsDigest: String(repeating: "a", count: 64),
            audience: audience, ttlSeconds: ttl, now: now)
    }

    @Test func aFreshTokenVerifiesAndCarriesItsBinding() throws {
        let (token, compact) = try mint()
        #expect(compact.split(separator: ".").count == 2)
        guard case .valid(let claims) = verifier.verify(compact, audience: "tickets", now: 1_000_030) else {
            Issue.record("a fresh token did not verify")
            return
        }
        #expect(claims == token)
        #expect(claims.runID == "run-1" && claims.tool == "tickets.create" && claims.expiresAt == 1_000_060)
        #expect(claims.id.count == 32)
        #expect(try mint().1 != compact, "every token has its own random id")
    }

    @Test func expiredTamperedAndWrongAudienceTokensAreRefused() throws {
        let (_, compact) = try mint()
        guard case .invalid(let expired, _) = verifier.verify(compact, now: 1_000_060) else {
            Issue.record("an expired token verified")
            return
        }
        #expect(expired.contains("expired"))
        guard case .invalid(let audience, _) = verifier.verify(compact, audience: "payroll", now: 1_000_001) else {
            Issue.record("a token for another audience verified")
            return
        }
        #expect(audience.contains("tickets"))

        // Change one claim and keep the signature.
        let parts = compact.split(separator: ".")
        var claims = try JSONParser().parse(try #require(Base64URL.decode(parts[0])))
        if case .object(var fields) = claims {
            fields["tool"] = "payroll.pay"
            claims = .object(fields)
        }
        let forged = Base64URL.encode(claims.canonicalBytes) + "." + parts[1]
        guard case .invalid(let reason, _) = verifier.verify(forged, now: 1_000_001) else {
            Issue.record("a tampered token verified")
            return
        }
        #expect(reason.contains("signature"))

        // Signed by another key.
        let other = TokenIssuer(key: try TraceSigningKey.generate())
        let (_, foreign) = try other.mint(
            secret: "X_NAME", runID: "r", tool: "t", argumentsDigest: "d", audience: nil, now: 1_000_000)
        if case .valid = verifier.verify(foreign, now: 1_000_001) { Issue.record("a foreign token verified") }
    }

    @Test func theLifetimeIsBounded() throws {
        let (token, _) = try mint(ttl: 100_000)
        #expect(token.expiresAt - token.issuedAt == Int64(TokenIssuer.maximumTTLSeconds))
    }
}
