import Agent
import AirlockCore
import Foundation
import RunEvents
import Runs

/// Asks the analyst on the terminal to approve one exact call, while the same request waits in
/// the home's approval store for anyone else (``StoreApprover`` races the two): shows the tool,
/// the exact arguments and their digest, the policy's reasons and threat tags, the request id and
/// the timeout, and takes `y` (this call once), `r` (this call and identical ones for the rest of
/// the run) or `n REASON` (refuse). Anything else is no. Where the policy requires an approver
/// other than the run's principal, the terminal can only refuse, or wait for someone else.
struct RunTerminalApprover: ApprovalPrompt {
    let printer: RunProgressPrinter

    func ask(_ request: ApprovalRequest) async -> ApprovalAnswer? {
        printer.stop()
        let user = RunCommand.userName()
        // Every part but our own words is escaped: the id, tool and arguments are the model's, and
        // a reason can quote them.
        var text = "\napproval needed for \(terminal: request.callID): \(terminal: request.tool)\n"
        text += "  arguments: \(terminal: request.argumentsText)\n"
        text += "  arguments sha256: \(request.argumentsDigest)\n"
        for (rule, reason) in zip(request.rules, request.reasons) {
            text += "  \(terminal: rule): \(terminal: reason)\n"
        }
        text += "  threats: \(terminal: request.tags.joined(separator: " "))\n"
        text += "  request \(request.id): anyone may answer with `airlock approvals approve|deny \(request.id)`"
        text += " within \(JSONValue.number(request.timeoutSeconds).canonicalString) s; then it is refused\n"
        if request.separateFromPrincipal {
            text += "  the policy requires someone other than \(terminal: user) to approve this call\n"
            text += "refuse it here, or wait for them? [n REASON = refuse; Enter = keep waiting] "
        } else {
            text += "approve this exact call? [y = this call once, r = also identical calls for the rest of the run, "
            text += "n REASON = refuse; default no] "
        }
        write(text)
        while true {
            let line: String
            switch await TerminalInput.nextLine() {
            case .cancelled: return nil
            case .end:
                return ApprovalAnswer(
                    granted: false, approver: "\(user)@tty", reason: "end of input", identity: user, source: .terminal)
            case .text(let typed): line = typed.trimmingCharacters(in: .whitespaces)
            }
            let word = line.split(separator: " ", maxSplits: 1).first.map { $0.lowercased() } ?? ""
            let rest = line.split(separator: " ", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            let yes = ["y", "yes", "r", "run"].contains(word)
            if request.separateFromPrincipal, yes || word.isEmpty {
                if yes { write("  you cannot approve this call yourself; ") }
                write("waiting for someone else (`airlock approvals approve \(request.id)`)\n")
                continue
            }
            if yes {
                let run = word.hasPrefix("r")
                return ApprovalAnswer(
                    granted: true, approver: "\(user)@tty",
                    reason: run ? "approved on the terminal for the rest of the run" : "approved on the terminal",
                    identity: user, scope: run ? .run : .once, source: .terminal)
            }
            return ApprovalAnswer(
                granted: false, approver: "\(user)@tty", reason: rest.isEmpty ? "refused on the terminal" : rest,
                identity: user, source: .terminal)
        }
    }

    func closed(_ request: ApprovalRequest, by answer: ApprovalAnswer) {
        write("\n" + Self.closing(request, answer) + "\n")
    }

    /// The line that tells a request was closed elsewhere (or by its timeout).
    static func closing(_ request: ApprovalRequest, _ answer: ApprovalAnswer) -> String {
        if answer.source == .timeout {
            return "  request \(request.id): \(terminal: answer.reason); the call is refused"
        }
        let verdict = answer.granted ? "granted (scope \(answer.scope.rawValue))" : "refused"
        return "  request \(request.id): \(verdict) by \(terminal: answer.approver): \(terminal: answer.reason)"
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Where a run has no terminal: says on stderr which request waits and how to answer it, and
/// leaves the answer to the home's approval store.
struct RunApprovalNotice: ApprovalPrompt {
    func ask(_ request: ApprovalRequest) async -> ApprovalAnswer? {
        var text = "approval needed for \(terminal: request.callID): \(terminal: request.tool)"
        text += " (request \(request.id)); waiting up to \(JSONValue.number(request.timeoutSeconds).canonicalString) s"
        text += " for `airlock approvals approve \(request.id)` or `airlock approvals deny \(request.id) --reason TEXT`"
        if request.separateFromPrincipal { text += " by someone other than \(terminal: request.principal)" }
        FileHandle.standardError.write(Data((text + "\n").utf8))
        return nil
    }

    func closed(_ request: ApprovalRequest, by answer: ApprovalAnswer) {
        FileHandle.standardError.write(Data((RunTerminalApprover.closing(request, answer) + "\n").utf8))
    }
}
