import AirlockCore
import Foundation

/// The claims of a per-call token: who it was minted for, for which call, until when.
///
/// Compact form: `base64url(payload) "." base64url(signature)`, where the payload is the claims'
/// canonical JSON and the signature is Ed25519 over exactly those payload bytes.
public struct CallToken: Sendable, Hashable {
    /// The store entry the token stands for (`sub`).
    public var secret: String
    /// The run id (`run`).
    public var runID: String
    /// The tool (`tool`).
    public var tool: String
    /// The argument digest the agent computed for the call (`args_sha256`).
    public var argumentsDigest: String
    /// The service the token is for (`aud`), if the manifest names one.
    public var audience: String?
    /// Issued at, seconds since 1970 (`iat`).
    public var issuedAt: Int64
    /// Expires at, seconds since 1970 (`exp`).
    public var expiresAt: Int64
    /// A random id, 32 hex digits (`jti`).
    public var id: String

    /// The issuer every token names (`iss`).
    public static let issuer = "airlock"

    /// Creates claims.
    public init(
        secret: String, runID: String, tool: String, argumentsDigest: String, audience: String?, issuedAt: Int64,
        expiresAt: Int64, id: String
    ) {
        self.secret = secret
        self.runID = runID
        self.tool = tool
        self.argumentsDigest = argumentsDigest
        self.audience = audience
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.id = id
    }

    /// The claims as JSON.
    public var claims: JSONValue {
        [
            "iss": .string(Self.issuer), "sub": .string(secret), "run": .string(runID), "tool": .string(tool),
            "args_sha256": .string(argumentsDigest), "aud": audience.map(JSONValue.string) ?? .null,
            "iat": .integer(issuedAt), "exp": .integer(expiresAt), "jti": .string(id),
        ]
    }

    /// Reads claims back; `nil` when a field is missing or mistyped.
    public init?(claims: JSONValue) {
        guard claims["iss"] == .string(Self.issuer), case .string(let secret)? = claims["sub"],
            case .string(let run)? = claims["run"], case .string(let tool)? = claims["tool"],
            case .string(let digest)? = claims["args_sha256"], case .integer(let iat)? = claims["iat"],
            case .integer(let exp)? = claims["exp"], case .string(let id)? = claims["jti"]
        else { return nil }
        let audience: String?
        switch claims["aud"] {
        case .string(let value)?: audience = value
        case .null?, nil: audience = nil
        default: return nil
        }
        self.init(
            secret: secret, runID: run, tool: tool, argumentsDigest: digest, audience: audience, issuedAt: iat,
            expiresAt: exp, id: id)
    }
}

/// base64url without padding (RFC 4648 §5), as the compact token form uses.
public enum Base64URL {
    /// Encodes without padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Decodes with or without padding; `nil` for anything outside the base64url alphabet.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var body = String(text)
        while body.hasSuffix("=") { body.removeLast() }
        let alphabet = body.utf8.allSatisfy {
            ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x5f
        }
        guard alphabet else { return nil }
        var standard = body.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: standard).map(Array.init)
    }
}
