import AirlockCore
import ArgumentParser
import Foundation
import Secrets
import Trace

/// `airlock secrets token verify TOKEN --key FILE [--audience A]`: checks a per-call token's
/// signature and expiry offline and prints its claims. Exit 1 when it is invalid.
struct SecretsTokenVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Verify a per-call token offline and print its claims (exit 1 if invalid).")

    @Argument(help: "The token: base64url(payload).base64url(signature).")
    var token: String

    @Option(help: "The token-signing public key (PEM from `airlock secrets token-key --export`).")
    var key: String

    @Option(help: "Refuse a token minted for another audience.")
    var audience: String?

    func run() async throws {
        guard let text = try? String(contentsOf: ToolsCLI.url(key), encoding: .utf8) else {
            printError("error: --key \(key): cannot read it")
            throw ExitCode.noInput
        }
        let publicKey: TracePublicKey
        do {
            publicKey = try TracePublicKey(text: text)
        } catch {
            printError("error: --key \(key): \(error.message)")
            throw ExitCode.dataError
        }
        switch TokenVerifier(publicKey: publicKey).verify(token, audience: audience) {
        case .valid(let claims):
            print(claims.claims.prettyString)
        case .invalid(let reason, let claims):
            printError("invalid token: \(reason)")
            if let claims { print(claims.claims.prettyString) }
            throw ExitCode.checkFailed
        }
    }
}
