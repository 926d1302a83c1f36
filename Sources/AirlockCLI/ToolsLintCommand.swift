import AirlockCore
import ArgumentParser
import Tools

/// `airlock tools lint FILE...`: report every problem of each manifest, with field path and line.
struct ToolsLintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract:
            "Check manifests and report every problem with its field path and line (exit 65 for a bad manifest, 66 for a missing file: the first failure's code)."
    )

    @Argument(help: "Manifest files (YAML or JSON).")
    var files: [String]

    func run() throws {
        var failure: ExitCode?
        for path in files {
            do {
                let file = try ManifestFile.load(ToolsCLI.url(path))
                print("\(path): ok (\(file.manifest.name)@\(file.manifest.version))")
            } catch {
                failure = failure ?? ExitCode(error.exitStatus)
                print(TerminalText.escape("\(path): \(error.code.rawValue)"))
                if error.problems.isEmpty {
                    print("  \(terminal: error.message)")
                } else {
                    for problem in error.problems { print("  \(terminal: problem.description)") }
                }
            }
        }
        if let failure { throw failure }
    }
}
