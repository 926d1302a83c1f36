import ArgumentParser
import Trace

/// `airlock trace key [--export]`: the trace signing key's id, or its public key as PEM.
struct TraceKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Show the trace signing key's id, or export its public key (PEM).")

    @Flag(name: .long, help: "Print the public key as PEM (for `verify --key` / `import --key` elsewhere).")
    var export = false

    func run() async throws {
        let key = try TraceCLI.signingKey()
        TraceCLI.print(export ? key.publicKey.pem : key.publicKey.keyID)
    }
}
