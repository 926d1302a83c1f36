import ArgumentParser
import Tools

/// `airlock tools lint FILE...`: report every problem of each manifest, with field path and line.
struct ToolsLintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check manifests and report every problem with its field path and line (exit 1 when any).")

    @Argument(help: "Manifest files (YAML or JSON).")
    var files: [String]

    func run() throws {
        var bad = 0
        for path in files {
            do {
                let file = try ManifestFile.load(ToolsCLI.url(path))
                print("\(path): ok (\(file.manifest.name)@\(file.manifest.version))")
            } catch {
                bad += 1
                print("\(path): \(error.code.rawValue)")
                if error.problems.isEmpty {
                    print("  \(error.message)")
                } else {
                    for problem in error.problems { print("  \(problem)") }
                }
            }
        }
        if bad > 0 { throw ExitCode.checkFailed }
    }
}
