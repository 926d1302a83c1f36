import Approvals
import ArgumentParser

/// `airlock approvals show ID [--json]`: one request whole: the tool, the exact arguments and
/// their digest, the policy's reasons, who may answer, the scope, the answer.
struct ApprovalsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one approval request: the exact call, its digest, reasons and answer.")

    @Argument(help: "The request id (from `approvals list` or the run's prompt).")
    var id: String

    @Flag(help: "Print the request as JSON.")
    var json = false

    @OptionGroup var storeOptions: ApprovalsStoreOptions

    func run() async throws {
        let store = try ApprovalsCLI.store(storeOptions)
        let record = try CLI.run { () throws(ApprovalsError) in try store.request(id) }
        print(json ? record.json.prettyString : ApprovalsCLI.text(record))
    }
}
