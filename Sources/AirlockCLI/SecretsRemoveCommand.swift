import ArgumentParser
import Secrets

/// `airlock secrets remove NAME`: deletes a secret from the store.
struct SecretsRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Delete a secret.")

    @Argument(help: "The secret's name.")
    var name: String

    func run() async throws {
        let (_, store) = try SecretsCLI.store()
        try CLI.run { () throws(SecretsError) in try store.remove(name) }
        print("removed \(name)")
    }
}
