import Agent
import AirlockCore
import Foundation

/// Asks the analyst on the terminal to approve one exact call: shows the tool, the arguments,
/// the policy's reasons and threat tags, and takes y/n (anything else is no).
struct RunTerminalApprover: Approver {
    let printer: RunProgressPrinter

    func decide(_ request: ApprovalRequest) async -> ApprovalAnswer {
        printer.stop()
        // Every part but our own words is escaped: the id, tool and arguments are the model's, and
        // a reason can quote them.
        var text = "\napproval needed for \(terminal: request.callID): \(terminal: request.tool)\n"
        text += "  arguments: \(terminal: request.arguments.canonicalString)\n"
        for (rule, reason) in zip(request.rules, request.reasons) {
            text += "  \(terminal: rule): \(terminal: reason)\n"
        }
        text += "  threats: \(terminal: request.tags.joined(separator: " "))\n"
        text += "approve this exact call? [y/N] "
        FileHandle.standardError.write(Data(text.utf8))
        let user = RunCommand.userName()
        guard let answer = readLine(strippingNewline: true) else {
            return ApprovalAnswer(granted: false, approver: "\(user)@tty", reason: "end of input")
        }
        let yes = ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
        return ApprovalAnswer(
            granted: yes, approver: "\(user)@tty", reason: yes ? "approved on the terminal" : "refused on the terminal")
    }
}
