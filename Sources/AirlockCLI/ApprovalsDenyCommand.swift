import Approvals
import ArgumentParser

/// `airlock approvals deny ID --reason TEXT`: refuses one pending request, as the local account;
/// the reason is required and lands in the trace.
struct ApprovalsDenyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny", abstract: "Deny a pending request, saying why (--reason is required).")

    @Argument(help: "The request id.")
    var id: String

    @Option(help: "Why (required; recorded in the trace and told to the model).")
    var reason: String?

    @OptionGroup var storeOptions: ApprovalsStoreOptions

    func validate() throws {
        try ApprovalsCLI.validate(reason: reason, required: true)
    }

    func run() async throws {
        let record = try ApprovalsCLI.answer(
            id, state: .denied, reason: reason ?? "", scope: nil, options: storeOptions)
        print(
            "denied \(record.id): \(terminal: record.tool) in run \(terminal: record.runID) by \(terminal: RunCommand.userName())"
        )
    }
}
