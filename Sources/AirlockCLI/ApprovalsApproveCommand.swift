import Approvals
import ArgumentParser
import RunEvents

/// `airlock approvals approve ID [--reason TEXT] [--scope once|run]`: grants one pending request,
/// as the local account.
struct ApprovalsApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a pending request: the exact call `approvals show ID` prints, as this local account.")

    @Argument(help: "The request id.")
    var id: String

    @Option(help: "Why (recorded in the trace; default: approved with airlock approvals).")
    var reason: String?

    @Option(help: "once (default): this call only; run: also later identical calls in this run.")
    var scope: String = ApprovalAnswered.Scope.once.rawValue

    @OptionGroup var storeOptions: ApprovalsStoreOptions

    func validate() throws {
        try ApprovalsCLI.validate(reason: reason, required: false)
        guard ApprovalAnswered.Scope(rawValue: scope) != nil else {
            throw ValidationError("--scope \(scope): must be once or run")
        }
    }

    func run() async throws {
        let record = try ApprovalsCLI.answer(
            id, state: .granted, reason: reason ?? "approved with airlock approvals",
            scope: ApprovalAnswered.Scope(rawValue: scope) ?? .once, options: storeOptions)
        print(
            "approved \(record.id): \(terminal: record.tool) in run \(terminal: record.runID) (scope \(scope)) by \(terminal: RunCommand.userName())"
        )
    }
}
