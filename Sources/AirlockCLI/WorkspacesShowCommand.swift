import AirlockCore
import ArgumentParser
import Runs

/// `airlock workspaces show NAME|RUN_ID [--json]`: one workspace's entries, each file with its size
/// and SHA-256 (links shown with their targets, never followed).
///
/// Exit status (docs/cli.md): 0 shown, 66 no such workspace or run (or the run's workspace is gone
/// or not under this home), 74 it cannot be read.
struct WorkspacesShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a workspace's files with their sizes and SHA-256 digests.")

    @Argument(help: "A workspace name, or the id of a run that used it.")
    var reference: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let (_, workspaces, uses) = try WorkspacesCLI.open()
        let detail = try CLI.run { () throws(RunsError) in
            let name = try workspaces.resolve(reference, uses: uses)
            return try workspaces.show(name, uses: uses[name] ?? [])
        }
        let summary = detail.summary
        if json {
            guard case .object(var document) = WorkspacesCLI.json(summary) else { return }
            document["entries"] = .array(
                detail.entries.map {
                    [
                        "path": .string($0.path), "kind": .string($0.kind.rawValue),
                        "bytes": $0.bytes.map(JSONValue.integer) ?? .null,
                        "sha256": $0.sha256.map(JSONValue.string) ?? .null,
                        "target": $0.target.map(JSONValue.string) ?? .null,
                        "omitted": $0.omitted.map(JSONValue.string) ?? .null,
                    ]
                })
            document["entries_cut"] = detail.cut.map(JSONValue.string) ?? .null
            print(JSONValue.object(document).prettyString)
            return
        }
        var lines = [
            "workspace: \(summary.name)", "path:      \(summary.url.path)",
            "created:   \(WorkspacesCLI.iso(summary.created))",
            "state:     \(summary.inUse ? "in use by " + WorkspacesCLI.holder(summary) : "idle")",
        ]
        lines += summary.uses.enumerated().map { index, use in
            (index == 0 ? "runs:      " : "           ")
                + "\(use.runID) (\(use.status ?? "incomplete"), started \(TraceListCommand.iso(use.startedAt)))"
        }
        if summary.uses.isEmpty { lines.append("runs:      - (no run in the trace used it)") }
        lines.append("files:     \(summary.files), \(Units.bytes(summary.bytes))")
        for entry in detail.entries {
            switch entry.kind {
            case .file:
                lines.append(
                    "  " + TraceListCommand.pad(String(entry.bytes ?? 0), 10) + " "
                        + (entry.sha256.map { "sha256:" + $0 } ?? "- (\(entry.omitted ?? "?"))") + "  " + entry.path)
            case .directory: lines.append("  " + TraceListCommand.pad("dir", 10) + " " + entry.path + "/")
            case .symlink:
                lines.append(
                    "  " + TraceListCommand.pad("link", 10) + " " + entry.path + " -> " + (entry.target ?? "?"))
            case .other: lines.append("  " + TraceListCommand.pad("special", 10) + " " + entry.path)
            }
        }
        if let cut = detail.cut { lines.append("(listing cut: \(cut))") }
        print(lines.joined(separator: "\n"))
    }
}
