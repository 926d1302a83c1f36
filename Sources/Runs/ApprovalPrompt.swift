import Agent

/// Where an approval request is shown besides the home's store: the CLI's terminal prompt, or its
/// notice where there is no terminal. ``StoreApprover`` races it against the store: whichever
/// answers first wins and the other is withdrawn.
public protocol ApprovalPrompt: Sendable {
    /// Shows the request and waits for an answer given here; returns `nil` when this prompt gives
    /// none (a notice only). Must return soon after its task is cancelled: the request was
    /// answered elsewhere or timed out.
    func ask(_ request: ApprovalRequest) async -> ApprovalAnswer?

    /// Tells that the request was closed elsewhere, with the answer that won (another person's,
    /// or the timeout's), or that an answer given here came too late.
    func closed(_ request: ApprovalRequest, by answer: ApprovalAnswer)
}
