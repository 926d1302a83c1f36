import ArgumentParser
import MCPTools
import Runs
import Tools

/// `airlock tools add FILE...`: validate manifests, check their pins, register them (all or nothing).
/// A `kind: mcp` manifest's server is started confined and its listed tools are registered.
struct ToolsAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register tool manifests (a changed manifest becomes a new version; unchanged is a no-op).",
        discussion:
            "A kind: mcp manifest names an MCP server: it is started in the sandbox, its tools are listed and each is registered as SERVER.TOOL with its description and input schema pinned. A server whose tools changed since then is refused until re-added with --accept-changes, which shows the changes."
    )

    @Argument(help: "Manifest files (YAML or JSON).")
    var files: [String]

    @Flag(help: "Compute each executable's SHA-256 and write it into the manifest as executable.sha256.")
    var pin = false

    @Flag(help: "Re-pin an MCP server whose tools changed since they were reviewed (the changes are shown).")
    var acceptChanges = false

    func run() async throws {
        let (home, registry) = try ToolsCLI.registry()
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
        // Each MCP server's tools, listed from the server itself (confined) and pinned.
        var plans: [MCPRegistration.Plan] = []
        var registering = loaded.filter { $0.server == nil }
        let servers = loaded.filter { $0.server != nil }
        // The site's datasets and secrets, which a server may mount and need, read only for one.
        let registration =
            servers.isEmpty
            ? nil
            : MCPRegistration(
                registry: registry,
                context: ToolRunContext(
                    workspace: nil, datasets: try CLI.run { () throws(RunsError) in try home.site().datasets }),
                runner: ToolRunner(registry: registry, secrets: try SecretsCLI.broker(home)))
        for file in servers {
            guard let registration else { break }
            do {
                let plan = try await registration.plan(file, acceptChanges: acceptChanges)
                plans.append(plan)
                registering += plan.files
            } catch {
                let code = CLI.fail(error)
                printError("nothing registered")
                throw code
            }
        }
        let outcomes: [AddOutcome]
        do {
            outcomes = try registry.add(registering)
            for plan in plans {
                for name in plan.gone { try registry.remove(name) }
            }
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
        for plan in plans where !plan.diff.isEmpty {
            print("accepted changes to MCP server \(plan.server):\n\(plan.diff.text)")
        }
        for outcome in outcomes { print(outcome) }
        for plan in plans {
            for name in plan.gone { print("retired \(name): MCP server \(plan.server) no longer lists it") }
        }
    }
}
