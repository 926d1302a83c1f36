import AirlockCore
import ArgumentParser
import Foundation
import Runs

/// `airlock workspaces …`: the runs' scratch directories under `AIRLOCK_HOME/workspaces/`: list
/// them, show one's files with their digests, prune the ones no run is using (docs/workflows.md).
struct WorkspacesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workspaces",
        abstract: "List, show and prune the workspaces runs leave under AIRLOCK_HOME/workspaces.",
        subcommands: [WorkspacesListCommand.self, WorkspacesShowCommand.self, WorkspacesPruneCommand.self]
    )
}

/// What the `workspaces` subcommands share.
enum WorkspacesCLI {
    /// The home's workspaces and which runs used each (from the trace, when there is one).
    static func open() throws -> (AirlockHome, Workspaces, [String: [Workspaces.Use]]) {
        let (home, _) = try ToolsCLI.registry()
        let workspaces = Workspaces(home: home)
        let uses = try CLI.run { () throws(RunsError) in
            try workspaces.trace().map { store throws(RunsError) in try workspaces.uses(in: store) } ?? [:]
        }
        return (home, workspaces, uses)
    }

    /// `2025-01-01T00:00:00Z`.
    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// One workspace as JSON.
    static func json(_ summary: Workspaces.Summary) -> JSONValue {
        [
            "name": .string(summary.name), "path": .string(summary.url.path), "created": .string(iso(summary.created)),
            "last_used": .string(iso(summary.lastUsed)), "in_use": .bool(summary.inUse),
            "bytes": .integer(summary.bytes), "files": .integer(Int64(summary.files)),
            "cut": summary.cut.map(JSONValue.string) ?? .null,
            "runs": .array(
                summary.uses.map {
                    [
                        "run": .string($0.runID), "started": .string(TraceListCommand.iso($0.startedAt)),
                        "status": .string($0.status ?? "incomplete"),
                    ]
                }),
        ]
    }

    /// `in use` or `idle`.
    static func state(_ summary: Workspaces.Summary) -> String { summary.inUse ? "in use" : "idle" }

    /// The run ids, `-` for none.
    static func runs(_ summary: Workspaces.Summary) -> String {
        summary.uses.isEmpty ? "-" : summary.uses.map(\.runID).joined(separator: ",")
    }

    /// Who holds an in-use workspace: the latest run the trace holds unfinished, if any.
    static func holder(_ summary: Workspaces.Summary) -> String {
        if let run = summary.uses.last(where: { $0.status == nil }) { return "a running run (\(run.runID))" }
        return "a running airlock process (a run, tools test or replay --reexecute)"
    }
}
