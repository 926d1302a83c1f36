import Agent

/// The approver's stand-in during a replay: gives the recorded answers in order.
public final class RecordedApprover: Approver {
    private let answers: RecordedSequence<ApprovalAnswer>

    /// Creates an approver from the recorded answers, in order.
    public init(answers: [ApprovalAnswer]) {
        self.answers = RecordedSequence(answers)
    }

    /// The next recorded answer; a request the record does not answer is refused.
    public func decide(_ request: ApprovalRequest) async -> ApprovalAnswer {
        answers.next()
            ?? ApprovalAnswer(granted: false, approver: "replay", reason: "the record holds no answer for this request")
    }
}
