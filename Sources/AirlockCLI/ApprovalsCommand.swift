import AirlockCore
import Approvals
import ArgumentParser
import Foundation
import RunEvents
import Runs

/// `airlock approvals …`: the approval requests runs wait on, answered by anyone with the home
/// (docs/approvals.md).
struct ApprovalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals",
        abstract: "List, show, approve or deny the approval requests runs are waiting on.",
        discussion:
            "The approver is the local account (USER, else the effective uid's name). Exit codes: 1 no longer pending, 64 usage, 66 unknown id, 74 store, 77 self-approval refused (docs/cli.md).",
        subcommands: [
            ApprovalsListCommand.self, ApprovalsShowCommand.self, ApprovalsApproveCommand.self,
            ApprovalsDenyCommand.self,
        ]
    )
}

/// Which store an `approvals` subcommand reads and answers.
struct ApprovalsStoreOptions: ParsableArguments {
    @Option(
        help:
            "The store: postgres://APPROVER@HOST/DB (the site's shared database, as the approvers' role) or an approvals SQLite file; default site.yaml's trace: database, else AIRLOCK_HOME/approvals.sqlite."
    )
    var database: String?
}

/// What every `approvals` subcommand shares: the home's store, the approver's identity, the
/// rendering of a request, and the exit code of each failure.
enum ApprovalsCLI {
    /// The store: `--database` when given, else the one the home's runs wait on (the site's
    /// shared database when `site.yaml` names a postgres trace, else `AIRLOCK_HOME/approvals.sqlite`).
    static func store(_ options: ApprovalsStoreOptions) throws -> ApprovalStore {
        let (home, _) = try ToolsCLI.registry()
        return try CLI.run { () throws(RunsError) in try home.approvals(database: options.database) }
    }

    /// Checks a reason given on the command line (the checks every front door makes).
    static func validate(reason: String?, required: Bool) throws {
        if let problem = ApprovalRecord.Answer.problem(reason: reason, required: required) {
            throw ValidationError(
                reason == nil
                    ? "--reason TEXT is required: say why"
                    : problem.replacingOccurrences(of: "the reason", with: "--reason"))
        }
    }

    /// Answers request `id` as this process's local account; a request no longer pending is exit 1.
    static func answer(
        _ id: String, state: ApprovalRecord.State, reason: String, scope: ApprovalAnswered.Scope?,
        options: ApprovalsStoreOptions
    ) throws -> ApprovalRecord {
        let store = try store(options)
        let answer = ApprovalRecord.Answer(
            approver: RunCommand.userName(), reason: reason, scope: scope, source: .store,
            at: Date().timeIntervalSince1970)
        let outcome = try CLI.run { () throws(ApprovalsError) in try store.answer(id, state: state, answer) }
        switch outcome {
        case .answered(let record): return record
        case .closed(let record):
            let by = record.answer.map { " by \(terminal: $0.approver): \(terminal: $0.reason)" } ?? ""
            throw CLI.fail(
                ApprovalsError(
                    .notPending,
                    "approval request \(id) is no longer pending: it was \(record.state.rawValue)\(by); nothing changed"
                ))
        }
    }

    /// A time as ISO 8601 in UTC, to the second.
    static func iso(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    /// Seconds as the shortest number (`300 s`).
    static func seconds(_ value: Double) -> String { "\(JSONValue.number(value.rounded()).canonicalString) s" }

    /// The scope a grant has, in words.
    static func scope(_ scope: ApprovalAnswered.Scope) -> String {
        switch scope {
        case .once: "once: this call only; a later identical call asks again"
        case .run: "run: this call and later identical calls (same tool and arguments digest) in this run"
        }
    }

    /// `approvals show`: every field, the exact arguments and their digest; escaped for the terminal.
    static func text(_ r: ApprovalRecord) -> String {
        var lines = [
            "request \(terminal: r.id): \(r.state.rawValue)",
            "  run: \(terminal: r.runID) (workflow \(terminal: r.workflow), principal \(terminal: r.principal))",
            "  call: \(terminal: r.callID)",
            "  tool: \(terminal: r.tool)",
            "  arguments: \(terminal: r.arguments)",
            "  arguments sha256: \(terminal: r.argumentsSHA256)",
        ]
        for (index, rule) in r.rules.enumerated() {
            lines.append("  \(terminal: rule): \(terminal: index < r.reasons.count ? r.reasons[index] : "")")
        }
        lines.append("  threats: \(terminal: r.tags.joined(separator: " "))")
        lines.append(
            "  approver: "
                + (r.separateFromPrincipal
                    ? "someone other than \(terminal: r.principal) (the policy separates duties)"
                    : "anyone, \(terminal: r.principal) included"))
        lines.append("  created: \(iso(r.createdAt)); waits until \(iso(r.deadline)) (\(seconds(r.timeoutSeconds)))")
        if let answer = r.answer {
            let how = answer.source.map { " via \($0.rawValue)" } ?? ""
            lines.append(
                "  answer: \(r.state.rawValue) by \(terminal: answer.approver)\(how) at \(iso(answer.at)): \(terminal: answer.reason)"
            )
            if let scope = answer.scope { lines.append("  scope: \(Self.scope(scope))") }
        } else {
            lines.append(
                "  scope if approved: \(Self.scope(.once)) (approve --scope run to cover later identical calls)")
            lines.append(
                "  answer with: airlock approvals approve \(terminal: r.id) [--reason TEXT] [--scope once|run]")
            lines.append("           or: airlock approvals deny \(terminal: r.id) --reason TEXT")
        }
        return lines.joined(separator: "\n")
    }
}
