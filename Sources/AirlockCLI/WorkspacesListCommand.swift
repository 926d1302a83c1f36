import AirlockCore
import ArgumentParser
import Runs

/// `airlock workspaces list [--json]`: every workspace with the runs that used it (from the
/// trace), its creation time, size, file count and whether a run holds it now.
///
/// Exit status (docs/cli.md): 0 listed, 74 the workspaces directory or the trace cannot be read.
struct WorkspacesListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the workspaces with their runs, creation time, size and file count.")

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let (_, workspaces, uses) = try WorkspacesCLI.open()
        let summaries = try CLI.run { () throws(RunsError) in try workspaces.list(uses: uses) }
        if json {
            print(JSONValue.array(summaries.map(WorkspacesCLI.json)).prettyString)
            return
        }
        let pad = TraceListCommand.pad
        var lines = [
            [pad("NAME", 32), pad("CREATED", 20), pad("SIZE", 10), pad("FILES", 7), pad("STATE", 7), "RUNS"]
                .joined(separator: " ")
        ]
        for summary in summaries {
            lines.append(
                [
                    pad(summary.name, 32), pad(WorkspacesCLI.iso(summary.created), 20),
                    pad(Units.bytes(summary.bytes), 10),
                    pad((summary.cut == nil ? "" : "≥") + String(summary.files), 7),
                    pad(WorkspacesCLI.state(summary), 7),
                    WorkspacesCLI.runs(summary),
                ].joined(separator: " "))
        }
        print(lines.joined(separator: "\n"))
    }
}
