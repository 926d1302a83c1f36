import AirlockCore
import Foundation
import Model
import Policy
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
    let startedAt = ContinuousClock.now

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
    }

    /// `text` with every secret the run knows replaced by `[secret:NAME]`.
    func redacted(_ text: String) -> String {
        loop.configuration.secretRedactor?.redacted(text) ?? text
    }

    var elapsed: Double {
        let duration = ContinuousClock.now - startedAt
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

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
                try recorder.append(
                    .error,
                    ["stage": "model", "code": .string(error.code.rawValue), "message": .string(error.description)])
                return try finish(status, error.description)
            }
            var assistant = response.message
            for index in assistant.toolCalls.indices where assistant.toolCalls[index].id == nil {
                assistant.toolCalls[index].id = "call-\(steps)-\(index + 1)"
            }
            messages.append(assistant)
            recordedMessages = messages.count
            try recorder.append(
                .modelResponse,
                [
                    "model": .string(loop.model.name), "kind": .string(loop.model.kind), "step": .integer(Int64(steps)),
                    "content": assistant.content.map(JSONValue.string) ?? .null,
                    "tool_calls": .array(assistant.toolCalls.map(\.json)),
                    "finish_reason": response.finishReason.map(JSONValue.string) ?? .null,
                    "usage": [
                        "input_tokens": response.inputTokens.map(JSONValue.integer) ?? .null,
                        "output_tokens": response.outputTokens.map(JSONValue.integer) ?? .null,
                    ],
                ])
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
        var entry: [String: JSONValue] = [
            "model": .string(loop.model.name), "kind": .string(loop.model.kind), "step": .integer(Int64(steps)),
            "messages": .array(messages[recordedMessages...].map(\.json)),
            "message_count": .integer(Int64(messages.count)),
        ]
        if answerOnly { entry["answer_only"] = "the step or tool-call budget allows no further call" }
        try recorder.append(.modelRequest, .object(entry))
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
            try recorder.append(
                .error, ["stage": .string(stage), "code": .string(status.rawValue), "message": .string(message)])
        }
        var payload: [String: JSONValue] = [
            "status": .string(status.rawValue), "message": .string(message), "steps": .integer(Int64(steps)),
            "tool_calls": .integer(Int64(proposals)), "executed": .integer(Int64(executed)),
            "denied": .integer(Int64(denied)), "labels": .array(labels.sorted().map(JSONValue.string)),
        ]
        if let answer { payload["answer"] = .string(answer) }
        try recorder.finish(.object(payload))
        return AgentRunOutcome(
            runID: recorder.runID, status: status, answer: answer, message: message, steps: steps, toolCalls: proposals,
            executed: executed, denied: denied)
    }
}
