import AirlockCore
import Approvals
import ArgumentParser

/// `airlock approvals list [--all] [--json]`: the requests waiting for an answer (or all).
struct ApprovalsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the approval requests waiting for an answer (--all: every one).")

    @Flag(help: "Also list answered and expired requests (newest first, at most 1000).")
    var all = false

    @Flag(help: "Print a JSON array.")
    var json = false

    @OptionGroup var storeOptions: ApprovalsStoreOptions

    func run() async throws {
        let store = try ApprovalsCLI.store(storeOptions)
        let records = try CLI.run { () throws(ApprovalsError) in try store.requests(includeClosed: all) }
        if json {
            print(JSONValue.array(records.map(\.json)).prettyString)
            return
        }
        guard !records.isEmpty else {
            print(all ? "no approval requests" : "no approval requests are pending (--all lists answered ones)")
            return
        }
        let rows =
            [["ID", "STATE", "TOOL", "RUN", "WORKFLOW", "PRINCIPAL", "CREATED", "ANSWER"]]
            + records.map { r in
                [
                    r.id, r.state.rawValue, "\(terminal: r.tool)", "\(terminal: String(r.runID.prefix(8)))",
                    "\(terminal: r.workflow)", "\(terminal: r.principal)", ApprovalsCLI.iso(r.createdAt),
                    r.answer.map { "\(terminal: $0.approver)" }
                        ?? "waits until \(ApprovalsCLI.iso(r.deadline))"
                        + (r.separateFromPrincipal ? " (not \(terminal: r.principal))" : ""),
                ]
            }
        let widths = (0..<8).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(
                row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}
