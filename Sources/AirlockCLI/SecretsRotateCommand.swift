import ArgumentParser
import Secrets

/// `airlock secrets rotate NAME [--from-file FILE]`: replaces a secret's value with a new version.
struct SecretsRotateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate", abstract: "Replace a secret's value; the next tool call receives the new version.")

    @Argument(help: "The secret's name.")
    var name: String

    @Option(help: "Read the new value from this file instead of standard input.")
    var fromFile: String?

    func run() async throws {
        let (_, store) = try SecretsCLI.store()
        // Fail on an unknown name before asking for a value.
        _ = try CLI.run { () throws(SecretsError) in try store.value(of: name) }
        let value = try SecretsCLI.readValue(name: name, fromFile: fromFile)
        let entry = try CLI.run { () throws(SecretsError) in try store.rotate(name, value: value) }
        print("rotated \(entry.name) (version \(entry.version))")
    }
}
