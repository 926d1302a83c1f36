import Agent
import Synchronization

/// The approver's stand-in during a replay: gives the recorded answers in order.
public final class ReplayApprover: Approver {
    private let answers: [ApprovalAnswer]
    private let next = Mutex(0)

    /// Creates an approver from the recorded answers, in order.
    public init(answers: [ApprovalAnswer]) {
        self.answers = answers
    }

    /// The next recorded answer; a request the record does not answer is refused.
    public func decide(_ request: ApprovalRequest) async -> ApprovalAnswer {
        let index = next.withLock { value in
            defer { value += 1 }
            return value
        }
        guard index < answers.count else {
            return ApprovalAnswer(granted: false, approver: "replay", reason: "the record holds no answer for this request")
        }
        return answers[index]
    }
}
