import Agent
import AirlockCore
import Model
import RunEvents

/// The model's stand-in during a replay: answers each request with the next recorded outcome,
/// a `model.response` or the model failure the run recorded, under the recorded model's name and
/// kind, whatever the request says.
public final class RecordedModel: ChatModel {
    /// One recorded outcome of a request.
    public enum Outcome: Sendable, Hashable {
        /// The model answered.
        case answered(ChatResponse)
        /// The request failed (a `model`-stage error).
        case failed(ModelError)
    }

    /// The recorded outcomes, in order.
    public let outcomes: RecordedSequence<Outcome>
    /// The recorded model's name.
    public let name: String
    /// The recorded model's kind.
    public let kind: String

    /// Creates a model from a run's typed events.
    /// - Parameters:
    ///   - events: the run's events in order.
    ///   - name: the recorded model name.
    ///   - kind: the recorded model kind.
    public init(events: [RunEvent], name: String, kind: String) {
        self.name = name
        self.kind = kind
        self.outcomes = RecordedSequence(
            events.compactMap { event in
                switch event {
                case .modelResponse(let response): .answered(response.response)
                // A cut reply the loop refused is its own finding about an answer it had.
                case .error(let error) where error.stage == "model" && error.code != AgentLoop.truncatedErrorCode:
                    // The recorded message is the whole description: replayed without a cause,
                    // it describes itself the same.
                    .failed(
                        ModelError(ModelError.Code(rawValue: error.code ?? "") ?? .unreachable, error.message))
                default: nil
                }
            })
    }

    /// The next recorded outcome.
    /// - Throws: the recorded ``ModelError``, or `script-exhausted` when the replay asks for
    ///   more than was recorded.
    public func complete(_ request: ChatRequest) async throws(ModelError) -> ChatResponse {
        switch outcomes.next() {
        case .answered(let response): return response
        case .failed(let error): throw error
        case nil:
            throw ModelError(
                .scriptExhausted,
                "replay: the run recorded \(outcomes.items.count) model outcomes; the replay asked for more")
        }
    }
}
