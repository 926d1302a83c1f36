import Agent

/// The approver of an evaluation's runs: nobody is there to answer, so every question is refused
/// at once and recorded (`no-terminal`), and a task that needs a call approved says so in its
/// `approve:` list, as an analyst would pass `--approve`.
struct EvaluationApprover: Approver {
    func decide(_ request: ApprovalRequest) async -> ApprovalAnswer {
        ApprovalAnswer(
            granted: false, approver: "evaluation",
            reason: "an evaluation has no one to ask; list \(request.tool) in the task's approve: to pre-approve it",
            source: .noTerminal)
    }
}
