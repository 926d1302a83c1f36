import ArgumentParser
import Secrets

/// `airlock secrets token-key [--export]`: the token-signing key's id, or its public key as PEM
/// for the site's services to verify tokens offline.
struct SecretsTokenKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token-key", abstract: "Show the token-signing key's id, or export its public key (PEM).")

    @Flag(help: "Print the public key as PEM (for `secrets token verify --key` or `openssl pkeyutl -verify`).")
    var export = false

    func run() async throws {
        let (home, _) = try SecretsCLI.store()
        let issuer = try CLI.run { () throws(SecretsError) in try TokenIssuer.load(keysDirectory: home.keys) }
        guard let key = issuer?.key.publicKey else { throw ExitCode.ioError }
        print(export ? key.pem : key.keyID, terminator: export ? "" : "\n")
    }
}
