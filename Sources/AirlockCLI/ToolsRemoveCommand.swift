import ArgumentParser
import Tools

/// `airlock tools remove NAME`: retire a tool; its versions stay for the traces that refer to them.
struct ToolsRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Retire a tool (it can no longer run; its history stays).")

    @Argument(help: "The tool's name.")
    var name: String

    func run() throws {
        let (_, registry) = try ToolsCLI.registry()
        do {
            print(try registry.remove(name) ? "retired \(name)" : "\(name) was already retired")
        } catch {
            throw CLI.fail(error)
        }
    }
}
