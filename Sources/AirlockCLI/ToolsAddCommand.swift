import ArgumentParser
import Tools

/// `airlock tools add FILE...`: validate manifests, check their pins, register them (all or nothing).
struct ToolsAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register tool manifests (a changed manifest becomes a new version; unchanged is a no-op).")

    @Argument(help: "Manifest files (YAML or JSON).")
    var files: [String]

    @Flag(help: "Compute each executable's SHA-256 and write it into the manifest as executable.sha256.")
    var pin = false

    func run() throws {
        let (_, registry) = try ToolsCLI.registry()
        var loaded: [ManifestFile] = []
        var failures: [ToolsError] = []
        for path in files {
            do {
                let url = ToolsCLI.url(path)
                loaded.append(pin ? try ManifestFile.pinned(url) : try ManifestFile.load(url))
            } catch {
                failures.append(error)
            }
        }
        if let first = failures.first {
            for error in failures { _ = CLI.fail(error) }
            printError("nothing registered")
            throw ExitCode(first.code.exitStatus)
        }
        let outcomes: [AddOutcome]
        do {
            outcomes = try registry.add(loaded)
        } catch {
            throw CLI.fail(error)
        }
        for file in loaded where pin {
            do {
                if try file.writePin() { print("pinned \(file.url.path): sha256 \(file.executableSHA256)") }
            } catch {
                throw CLI.fail(error)
            }
        }
        for outcome in outcomes { print(outcome) }
    }
}
