import Agent
import AirlockCore
import Foundation
import Model
import Synchronization

/// The MCP client in the place of the run's model: each `tools/call` the client sends becomes the
/// next "model response" proposing that one call, and the loop's answer to it (the tool message
/// it would have sent back to a model) becomes the `tools/call` result. So a served call takes
/// exactly the loop's path (catalog and schema, policy, approval, sandbox, trace), and a replay
/// plays the recorded proposals back through ``Runs/RecordedModel`` like any model's.
///
/// Calls are taken in arrival order, one at a time (the loop handles one proposal after
/// another). The session's end (the client closed its side) is the run's final answer; after the
/// run has ended (a budget, the denial breaker, a cancellation) every call is answered as a tool
/// error naming that end.
public final class MCPSessionDriver: ChatModel, Sendable {
    /// What the trace records as the model: `mcp-client:TRANSPORT`.
    public let name: String
    /// `mcp-client`: recorded so that a reviewer sees the proposals came from an MCP client.
    public let kind = MCPSessionDriver.modelKind

    /// The model kind an MCP-served run records.
    public static let modelKind = "mcp-client"
    /// The final answer an MCP-served run records when its client closes the session.
    public static let closedAnswer = "the MCP client closed the session"

    /// What a `tools/call` is answered with.
    public struct Outcome: Sendable, Hashable {
        /// The call id the run recorded (`mcp-N`).
        public var callID: String
        /// What the loop answered: the tool's output, or the refusal as JSON (`error`, `rules`,
        /// `reasons`).
        public var content: String
        /// Whether the call did not run to a zero exit (refused, malformed, failed, or the run
        /// had ended).
        public var isError: Bool
    }

    private struct Pending: Sendable {
        var call: ModelToolCall
        var note: JSONValue
        var answer: CheckedContinuation<Outcome, Never>
    }

    private struct State: Sendable {
        var queue: [Pending] = []
        /// Calls handed to the loop and not answered yet, by call id.
        var proposed: [String: Pending] = [:]
        /// The loop's request waiting for the next call, and its generation (a timeout or a
        /// cancellation resumes only the request it was armed for).
        var waiting: (generation: Int, continuation: CheckedContinuation<Result<ChatResponse, ModelError>, Never>)?
        var generation = 0
        var cancelled = false
        var closed = false
        /// Why the run ended, once it has: every later call gets it as its error.
        var ended: String?
        /// Calls that ran to a zero exit (from the loop's progress).
        var succeeded: Set<String> = []
        var calls = 0
    }

    private let state = Mutex(State())

    /// Creates a driver for a session over `transport` (`stdio`).
    public init(transport: String) {
        self.name = "mcp-client:\(transport)"
    }

    // MARK: The loop's side

    /// Hands the loop the next call, answering the calls its messages have answered first.
    /// - Throws: ``ModelError`` `timeout` when no call came within the request's time (the run's
    ///   wall budget), `cancelled` when the run's task was cancelled.
    public func complete(_ request: ChatRequest) async throws(ModelError) -> ChatResponse {
        deliver(request.messages)
        let generation = state.withLock { state in
            state.generation += 1
            return state.generation
        }
        let timer = request.timeoutSeconds.map { seconds in
            Task { [weak self] in
                try? await Task.sleep(for: .seconds(max(seconds, 0)))
                guard !Task.isCancelled else { return }
                self?.resume(
                    generation,
                    .failure(ModelError(.timeout, "no tools/call came from the MCP client within \(Int(seconds)) s")))
            }
        }
        defer { timer?.cancel() }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation {
                (continuation: CheckedContinuation<Result<ChatResponse, ModelError>, Never>) in
                state.withLock { state in
                    if state.cancelled {
                        continuation.resume(returning: .failure(Self.cancellation))
                    } else if !state.queue.isEmpty {
                        let next = state.queue.removeFirst()
                        state.proposed[next.call.id ?? ""] = next
                        continuation.resume(returning: .success(Self.response(proposing: next)))
                    } else if state.closed {
                        continuation.resume(returning: .success(Self.closing))
                    } else {
                        state.waiting = (generation, continuation)
                    }
                }
            }
        } onCancel: {
            state.withLock { $0.cancelled = true }
            resume(generation, .failure(Self.cancellation))
        }
        return try result.get()
    }

    /// Sees the loop's progress: which calls ran to a zero exit.
    public func observe(_ event: AgentProgress) {
        state.withLock { state in
            switch event {
            case .executed(let callID, _, let exitCode, _, _) where exitCode == 0:
                state.succeeded.insert(callID)
            case .repeated(let callID, let earlier) where state.succeeded.contains(earlier):
                state.succeeded.insert(callID)
            default:
                break
            }
        }
    }

    /// The run has ended: every call not answered yet, and every later one, is answered with
    /// `reason` as a tool error.
    public func ended(_ reason: String) {
        let answers = state.withLock { state in
            state.ended = reason
            // A call the loop took but whose answer it never asked to hand back: the run ended
            // right after it (a budget's last step, the denial breaker, a cancellation).
            var answers = state.proposed.map { id, pending in
                let ran = state.succeeded.contains(id)
                return (
                    pending,
                    Outcome(
                        callID: id,
                        content: ran
                            ? "\(id) ran (exit 0), then \(reason); its output is in the trace"
                            : "\(id) was not answered: \(reason)",
                        isError: true)
                )
            }
            answers += state.queue.map { ($0, Outcome(callID: $0.call.id ?? "", content: reason, isError: true)) }
            state.proposed = [:]
            state.queue = []
            return answers
        }
        for (pending, outcome) in answers { pending.answer.resume(returning: outcome) }
    }

    // MARK: The session's side

    /// Proposes one call of the client's and waits for the loop's answer.
    /// - Parameters:
    ///   - tool: the tool's name.
    ///   - arguments: the arguments as JSON text.
    ///   - note: what the run records beside the proposal (the MCP request's `traceparent`, the
    ///     client): the proposal's content.
    public func call(_ tool: String, arguments: String, note: JSONValue) async -> Outcome {
        await withCheckedContinuation { (answer: CheckedContinuation<Outcome, Never>) in
            state.withLock { state in
                state.calls += 1
                let pending = Pending(
                    call: ModelToolCall(id: "mcp-\(state.calls)", name: tool, arguments: arguments), note: note,
                    answer: answer)
                if let ended = state.ended {
                    answer.resume(returning: Outcome(callID: pending.call.id ?? "", content: ended, isError: true))
                } else if let waiting = state.waiting {
                    state.waiting = nil
                    state.proposed[pending.call.id ?? ""] = pending
                    waiting.continuation.resume(returning: .success(Self.response(proposing: pending)))
                } else {
                    state.queue.append(pending)
                }
            }
        }
    }

    /// The client closed the session: the loop's next request is answered with the final answer.
    /// - Returns: the ids of the calls the loop has and has not answered yet (the client will
    ///   never read their results), in order.
    @discardableResult
    public func close() -> [String] {
        let (waiting, unanswered) = state.withLock { state in
            state.closed = true
            defer { state.waiting = nil }
            return (state.waiting, (state.proposed.values.map(\.call) + state.queue.map(\.call)).compactMap(\.id))
        }
        waiting?.continuation.resume(returning: .success(Self.closing))
        return unanswered.sorted { $0.count != $1.count ? $0.count < $1.count : $0 < $1 }
    }

    // MARK: Internals

    /// Answers the proposed calls the loop's tool messages answer.
    private func deliver(_ messages: [ChatMessage]) {
        let answered = state.withLock { state -> [(Pending, Outcome)] in
            var answered: [(Pending, Outcome)] = []
            for message in messages where message.role == .tool {
                guard let id = message.toolCallID, let pending = state.proposed.removeValue(forKey: id) else {
                    continue
                }
                answered.append(
                    (
                        pending,
                        Outcome(callID: id, content: message.content ?? "", isError: !state.succeeded.contains(id))
                    ))
            }
            return answered
        }
        for (pending, outcome) in answered { pending.answer.resume(returning: outcome) }
    }

    private func resume(_ generation: Int, _ result: Result<ChatResponse, ModelError>) {
        let waiting = state.withLock { state in
            guard let waiting = state.waiting, waiting.generation == generation else {
                return nil as CheckedContinuation<Result<ChatResponse, ModelError>, Never>?
            }
            state.waiting = nil
            return waiting.continuation
        }
        waiting?.resume(returning: result)
    }

    private static let cancellation = ModelError(.cancelled, "the run was cancelled while waiting for the MCP client")

    /// The finish reason of a response proposing a call, as chat-completions servers say it.
    private static let callFinishReason = "tool_calls"

    private static func response(proposing pending: Pending) -> ChatResponse {
        ChatResponse(
            message: ChatMessage(role: .assistant, content: pending.note.canonicalString, toolCalls: [pending.call]),
            finishReason: callFinishReason)
    }

    private static var closing: ChatResponse {
        ChatResponse(message: ChatMessage(role: .assistant, content: closedAnswer), finishReason: "stop")
    }
}
