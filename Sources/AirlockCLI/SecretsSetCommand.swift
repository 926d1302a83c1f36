import ArgumentParser
import Secrets

/// `airlock secrets set NAME [--from-file FILE]`: adds a secret (value from stdin by default).
struct SecretsSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Add a secret; the value comes from standard input (not echoed on a terminal) or --from-file.")

    @Argument(help: "The secret's name: [A-Za-z_][A-Za-z0-9_.-]{0,63}.")
    var name: String

    @Option(help: "Read the value from this file instead of standard input (one trailing newline is dropped).")
    var fromFile: String?

    func run() async throws {
        let (_, store) = try SecretsCLI.store()
        let value = try SecretsCLI.readValue(name: name, fromFile: fromFile)
        let entry = try CLI.run { () throws(SecretsError) in try store.set(name, value: value) }
        print("set \(entry.name) (version \(entry.version))")
    }
}
