import AirlockCore
import ArgumentParser
import Secrets

/// `airlock secrets list [--json]`: names, versions and times; never values.
struct SecretsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List secrets: name, version, created, rotated, last used (never values).")

    @Flag(help: "Print a JSON array.")
    var json = false

    func run() async throws {
        let (_, store) = try SecretsCLI.store()
        let entries = try CLI.run { () throws(SecretsError) in try store.list() }
        if json {
            print(JSONValue.array(entries.map(\.json)).prettyString)
            return
        }
        guard !entries.isEmpty else {
            print("no secrets (add one with: airlock secrets set NAME < FILE)")
            return
        }
        let rows =
            [["NAME", "VERSION", "CREATED", "ROTATED", "LAST USED"]]
            + entries.map {
                [
                    $0.name, "\($0.version)", SecretEntry.iso($0.created), $0.rotated.map(SecretEntry.iso) ?? "-",
                    $0.lastUsed.map(SecretEntry.iso) ?? "-",
                ]
            }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(
                row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}
