import AirlockCore
import Foundation
import Model
import Policy
import RunEvents
import Sandbox
import Tools
import Trace

/// The state of one run of ``AgentLoop``: the conversation, the counters the policy sees, and the
/// recorder. Used by one task only.
final class AgentRun {
    let loop: AgentLoop
    let recorder: RunRecorder
    let tools: [String: RegisteredTool]
    let offered: [JSONValue]
    let progress: @Sendable (AgentProgress) -> Void
    /// The time `run.started` was recorded, in nanoseconds since 1970.
    let startedAt: Int64
    /// The time of the last recorded event: the run's clock.
    var clock: Int64

    var messages: [ChatMessage] = []
    var recordedMessages = 0
    var steps = 0
    var proposals = 0
    var executed = 0
    var denied = 0
    var consecutiveDenials = 0
    var callsByTool: [String: Int64] = [:]
    var outputBytes: Int64 = 0
    var labels: Set<String> = []
    var approvals: [PolicyInput.Approval] = []
    var recentCalls: [PolicyInput.CallRecord] = []

    /// How a call's handling ends the run early, if it does.
    struct Stop: Error {
        var status: AgentRunOutcome.Status
        var message: String
        /// The stage recorded in the `error` event (`budget`, `sandbox`, `registry`, `policy`).
        var stage: String
    }

    init(
        loop: AgentLoop, recorder: RunRecorder, tools: [RegisteredTool], offered: [JSONValue],
        progress: @escaping @Sendable (AgentProgress) -> Void
    ) {
        self.loop = loop
        self.recorder = recorder
        self.tools = Dictionary(tools.map { ($0.manifest.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.offered = offered
        self.progress = progress
        self.startedAt = recorder.lastTime
        self.clock = recorder.lastTime
    }

    /// Appends one typed event and moves the run's clock to its time.
    func record<Payload: RunEventPayload>(_ payload: Payload) throws(TraceError) {
        clock = try recorder.append(Payload.type, payload.json).time
    }

    /// Appends an approval's answer.
    func record(_ answer: ApprovalAnswered, granted: Bool) throws(TraceError) {
        clock = try recorder.append(ApprovalAnswered.type(granted: granted), answer.json).time
    }

    /// `text` with every secret the run knows replaced by `[secret:NAME]`.
    func redacted(_ text: String) -> String {
        loop.configuration.secretRedactor?.redacted(text) ?? text
    }

    /// Seconds since the run started, on the run's clock.
    var elapsed: Double { Double(clock - startedAt) / 1e9 }

    /// Seconds since 1970, on the run's clock (the policy's `now`, an approval's time).
    var now: Double { Double(clock) / 1e9 }

    var budgets: Workflow.Budgets { loop.workflow.budgets }

    /// The conversation loop; returns the recorded outcome.
    func drive(task: String) async throws -> AgentRunOutcome {
        messages = [
            ChatMessage(role: .system, content: redacted(loop.workflow.systemPrompt)),
            ChatMessage(role: .user, content: redacted(task)),
        ]
        while true {
            if steps >= budgets.maxSteps {
                return try finish(
                    .budgetExhausted, "the step budget (\(budgets.maxSteps) model requests) is spent", stage: "budget")
            }
            if elapsed >= budgets.wallSeconds {
                return try finish(
                    .budgetExhausted, "the wall-time budget (\(budgets.wallSeconds) s) is spent", stage: "budget")
            }
            steps += 1
            let response: ChatResponse
            do {
                response = try await ask()
            } catch let error as ModelError {
                let status: AgentRunOutcome.Status =
                    [.unreachable, .timeout, .endpointRefused].contains(error.code) ? .modelUnreachable : .modelError
                try record(RunError(stage: "model", code: error.code.rawValue, message: error.description))
                return try finish(status, error.description)
            }
            var assistant = response.message
            for index in assistant.toolCalls.indices where assistant.toolCalls[index].id == nil {
                assistant.toolCalls[index].id = "call-\(steps)-\(index + 1)"
            }
            messages.append(assistant)
            recordedMessages = messages.count
            try record(
                ModelResponse(
                    model: loop.model.name, kind: loop.model.kind, step: steps, content: assistant.content,
                    toolCalls: assistant.toolCalls, finishReason: response.finishReason,
                    usage: .init(inputTokens: response.inputTokens, outputTokens: response.outputTokens)))
            guard !assistant.toolCalls.isEmpty else {
                return try finish(.succeeded, "the model gave its final answer", answer: assistant.content ?? "")
            }
            for call in assistant.toolCalls {
                do {
                    let content = try await handle(call, id: call.id ?? "call-\(steps)")
                    messages.append(ChatMessage(role: .tool, content: content, toolCallID: call.id))
                } catch let error as TraceError {
                    throw error
                } catch let stop as Stop {
                    return try finish(stop.status, stop.message, stage: stop.stage)
                } catch {
                    return try finish(.failed, "\(error)")
                }
            }
        }
    }

    /// Sends the conversation to the model, recording the request (only the messages it has not
    /// recorded yet, so the trace does not grow quadratically).
    private func ask() async throws -> ChatResponse {
        let settings = loop.workflow.model
        // The last request a budget allows offers no tools: the model is asked for its answer
        // rather than for a call that could only be refused.
        let answerOnly = steps >= budgets.maxSteps || proposals >= budgets.maxToolCalls
        let request = ChatRequest(
            messages: messages, tools: answerOnly ? [] : offered, temperature: settings.temperature,
            maxTokens: settings.maxTokens, seed: settings.seed, toolCalling: loop.configuration.toolCalling)
        try record(
            ModelRequest(
                model: loop.model.name, kind: loop.model.kind, step: steps,
                messages: Array(messages[recordedMessages...]),
                messageCount: messages.count,
                answerOnly: answerOnly ? "the step or tool-call budget allows no further call" : nil))
        recordedMessages = messages.count
        progress(.modelRequested(step: steps))
        let clock = ContinuousClock.now
        let response = try await loop.model.complete(request)
        let duration = ContinuousClock.now - clock
        progress(
            .modelAnswered(
                step: steps,
                seconds: Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18,
                calls: response.message.toolCalls.count))
        return response
    }

    private func finish(
        _ status: AgentRunOutcome.Status, _ message: String, answer: String? = nil, stage: String? = nil
    ) throws(TraceError) -> AgentRunOutcome {
        if let stage, status != .succeeded {
            try record(RunError(stage: stage, code: status.rawValue, message: message))
        }
        try recorder.finish(
            RunFinished(
                status: status.rawValue, message: message, steps: steps, toolCalls: proposals, executed: executed,
                denied: denied, labels: labels.sorted(), answer: answer
            ).json)
        return AgentRunOutcome(
            runID: recorder.runID, status: status, answer: answer, message: message, steps: steps, toolCalls: proposals,
            executed: executed, denied: denied)
    }
}
