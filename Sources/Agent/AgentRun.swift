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
    /// How many events the run has recorded (`run.started` is the first): where a cancellation
    /// is asked about (``RunCancellation``).
    var events: Int64 = 1

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
    /// The calls that ran, by argument digest (tool and arguments): the first call's id and what
    /// the model was told, which an identical call later gets again without running.
    var ran: [String: (callID: String, content: String)] = [:]
    /// How many times each call that ran was repeated, by argument digest.
    var repeats: [String: Int] = [:]
    /// Whether a call of the last step was answered from the record as a repeat.
    var repeatedLastStep = false
    /// Each tool's manifest facts, by reference and revision (``facts(of:measured:schemaErrors:)``).
    var manifestFacts: [String: ManifestFacts] = [:]

    /// How a step ends the run early, if it does.
    struct Stop: Error {
        var status: AgentRunOutcome.Status
        var message: String
        /// The stage recorded in the `error` event (`budget`, `sandbox`, `registry`, `policy`,
        /// `repeat`, `cancel`).
        var stage: String
        /// What the `error` event records when it is not ``message``: a cancellation records the
        /// reason alone, which a replay reads back as its stand-in's.
        var recorded: String? = nil
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

    /// Records one typed event, held until the step's next barrier (``commit()``), and moves the
    /// run's clock to its time.
    func record<Payload: RunEventPayload>(_ payload: Payload) throws(TraceError) {
        moved(to: try recorder.appendPending(Payload.type, payload.json))
    }

    /// Records an approval's answer, held until the next barrier.
    func record(_ answer: ApprovalAnswered, granted: Bool) throws(TraceError) {
        moved(to: try recorder.appendPending(ApprovalAnswered.type(granted: granted), answer.json))
    }

    /// A barrier: every event held so far is written in one transaction (one fsync). The loop
    /// commits before anything leaves the process on the record's word (a tool runs, a person is
    /// asked) and once a tool's outcome is recorded, so what a tool did is never only in memory;
    /// the run's end commits with `run.finished`. The model's request and answer are held to the
    /// next barrier: a crash while the model generates loses them, and the trace on disk still
    /// ends at a step the run got through (docs/trace.md, "Durability and failures").
    func commit() throws(TraceError) {
        try recorder.commit()
    }

    private func moved(to receipt: TraceReceipt) {
        clock = receipt.time
        events = receipt.seq
    }

    /// Ends the run as `cancelled` when its cancellation says so at this point.
    /// - Parameter during: what the run was doing, for the message (`while the model was generating (step 2)`).
    /// - Throws: ``Stop`` `cancelled`, its recorded reason the cancellation's.
    func checkCancellation(_ during: @autoclosure () -> String) throws(Stop) {
        guard let reason = loop.configuration.cancellation.reason(afterEvents: events) else { return }
        throw Stop(
            status: .cancelled, message: "the run was cancelled \(during()): \(reason)",
            stage: AgentLoop.cancellationStage,
            recorded: reason)
    }

    /// The wall-time budget's words, for every message that names it.
    var wallBudget: String { "the wall-time budget (\(budgets.wallSeconds) s)" }

    /// Seconds left of the wall-time budget, on the run's clock (never negative).
    var remainingSeconds: Double { max(budgets.wallSeconds - elapsed, 0) }

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
    /// - Parameter plan: the workflow's `plan:` calls, rendered: run first, as the author's.
    func drive(task: String, plan: [Workflow.PlanStep] = []) async throws -> AgentRunOutcome {
        messages = [
            ChatMessage(role: .system, content: redacted(loop.workflow.systemPrompt)),
            ChatMessage(role: .user, content: redacted(task)),
        ]
        if !plan.isEmpty, let stop = try await runPlan(plan) { return try finish(stop) }
        while true {
            do throws(Stop) {
                try checkCancellation(steps == 0 ? "before the first model request" : "after step \(steps)")
            } catch {
                return try finish(error)
            }
            if steps >= budgets.maxSteps {
                return try finish(
                    .budgetExhausted, "the step budget (\(budgets.maxSteps) model requests) is spent", stage: "budget")
            }
            if elapsed >= budgets.wallSeconds {
                return try finish(.budgetExhausted, "\(wallBudget) is spent", stage: "budget")
            }
            steps += 1
            let response: ChatResponse
            do {
                response = try await ask()
            } catch let stop as Stop {
                return try finish(stop)
            } catch let error as ModelError {
                if error.code == .cancelled {
                    do throws(Stop) {
                        try checkCancellation(generating)
                    } catch {
                        return try finish(error)
                    }
                }
                let status: AgentRunOutcome.Status =
                    [.unreachable, .timeout, .endpointRefused].contains(error.code) ? .modelUnreachable : .modelError
                try record(RunError(stage: "model", code: error.code.rawValue, message: error.description))
                // The request was given what was left of the budget: a timeout recorded past the
                // budget's end is the budget's (a replay, playing the times back, decides the same).
                if error.code == .timeout, elapsed >= budgets.wallSeconds {
                    return try finish(
                        .budgetExhausted, "\(wallBudget) ran out \(generating)", stage: "budget")
                }
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
            if response.finishReason == Self.truncatedFinishReason, loop.workflow.model.onTruncation == .error {
                let message =
                    "the model's reply at step \(steps) was cut at the token limit (model.max_tokens: \(loop.workflow.model.maxTokens)); raise model.max_tokens, or set model.on_truncation: accept to use cut replies"
                try record(RunError(stage: "model", code: AgentLoop.truncatedErrorCode, message: message))
                return try finish(.modelError, message)
            }
            guard !assistant.toolCalls.isEmpty else {
                let answer = assistant.content ?? ""
                // An empty answer, or one phrase repeated over most of it, is not an answer: the
                // run says so rather than `succeeded` (docs/workflows.md#how-a-run-ends).
                if let degenerate = DegenerateAnswer.reason(answer) {
                    return try finish(
                        .degenerateAnswer,
                        degenerate == DegenerateAnswer.empty
                            ? "the model's final answer at step \(steps) is empty"
                            : "the model's final answer at step \(steps) repeats one phrase over most of its text",
                        answer: answer, degenerate: degenerate)
                }
                return try finish(.succeeded, "the model gave its final answer", answer: answer)
            }
            for call in assistant.toolCalls {
                do {
                    let content = try await handle(call, id: call.id ?? "call-\(steps)")
                    messages.append(ChatMessage(role: .tool, content: content, toolCallID: call.id))
                } catch let error as TraceError {
                    throw error
                } catch let stop as Stop {
                    return try finish(stop)
                } catch {
                    return try finish(.failed, "\(error)")
                }
            }
        }
    }

    /// Runs the workflow's `plan:` before the model is asked: each call proposed with origin
    /// `plan` at step 0 and taken through the policy, approval and sandbox like any other, the
    /// conversation then holding them as an assistant turn and their results, so the model's
    /// first request starts from what they found.
    /// - Returns: the stop that ended the run during the plan, or `nil`.
    private func runPlan(_ plan: [Workflow.PlanStep]) async throws -> Stop? {
        let calls = plan.enumerated().map { index, step in
            ModelToolCall(id: "plan-\(index + 1)", name: step.tool, arguments: step.arguments.canonicalString)
        }
        messages.append(ChatMessage(role: .assistant, content: nil, toolCalls: calls))
        for call in calls {
            do {
                let content = try await handle(call, id: call.id ?? call.name, origin: Self.planOrigin)
                messages.append(ChatMessage(role: .tool, content: content, toolCallID: call.id))
            } catch let error as TraceError {
                throw error
            } catch let stop as Stop {
                return stop
            } catch {
                return Stop(status: .failed, message: "\(error)", stage: "sandbox")
            }
        }
        return nil
    }

    /// `tool.proposed`'s origin for a call of the workflow's `plan:`.
    static let planOrigin = "plan"

    /// The finish reason of a reply the server cut at the token limit.
    static let truncatedFinishReason = "length"

    /// What the run is doing while the model answers the current step.
    private var generating: String { "while the model was generating (step \(steps))" }

    /// Sends the conversation to the model, recording the request (only the messages it has not
    /// recorded yet, so the trace does not grow quadratically). The request may take what is left
    /// of the wall-time budget.
    /// - Throws: ``ModelError``, ``TraceError``, or ``Stop`` `cancelled`.
    private func ask() async throws -> ChatResponse {
        let settings = loop.workflow.model
        // The last request a budget allows offers no tools: the model is asked for its answer
        // rather than for a call that could only be refused.
        let spent = steps >= budgets.maxSteps || proposals >= budgets.maxToolCalls
        // A model that repeated a call which already ran has nothing new to call: with
        // `model.answer_after_repeat` it is asked for its answer next (the repeat's note and the
        // earlier result are in the conversation), rather than left to repeat until the run ends.
        let afterRepeat = repeatedLastStep && settings.answerAfterRepeat
        let answerOnly = spent || afterRepeat
        var request = ChatRequest(
            messages: messages, tools: answerOnly ? [] : offered, temperature: settings.temperature,
            maxTokens: settings.maxTokens, seed: settings.seed, toolCalling: loop.configuration.toolCalling)
        request.cachePrompt = loop.configuration.promptCache
        try record(
            ModelRequest(
                model: loop.model.name, kind: loop.model.kind, step: steps,
                messages: Array(messages[recordedMessages...]),
                messageCount: messages.count,
                answerOnly: spent
                    ? "the step or tool-call budget allows no further call"
                    : afterRepeat
                        ? "the last step repeated a call that already ran (model.answer_after_repeat)" : nil))
        repeatedLastStep = false
        recordedMessages = messages.count
        request.timeoutSeconds = remainingSeconds
        // Asked here and, live, again if the request is abandoned: both after `model.request`.
        try checkCancellation(generating)
        progress(.modelRequested(step: steps))
        let clock = ContinuousClock.now
        let step = steps
        let report = progress
        let response = try await loop.model.complete(request) { generated in
            report(.generating(step: step, tokens: generated.tokens, seconds: generated.seconds))
        }
        let duration = ContinuousClock.now - clock
        progress(
            .modelAnswered(
                step: steps,
                seconds: Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18,
                calls: response.message.toolCalls.count, tokens: response.outputTokens.map { Int($0) }))
        return response
    }

    private func finish(_ stop: Stop) throws(TraceError) -> AgentRunOutcome {
        try finish(stop.status, stop.message, stage: stop.stage, recorded: stop.recorded)
    }

    private func finish(
        _ status: AgentRunOutcome.Status, _ message: String, answer: String? = nil, stage: String? = nil,
        recorded: String? = nil, degenerate: String? = nil
    ) throws(TraceError) -> AgentRunOutcome {
        if let stage, status != .succeeded {
            try record(RunError(stage: stage, code: status.rawValue, message: recorded ?? message))
        }
        try recorder.finish(
            RunFinished(
                status: status.rawValue, message: message, steps: steps, toolCalls: proposals, executed: executed,
                denied: denied, labels: labels.sorted(), answer: answer, degenerate: degenerate
            ).json)
        return AgentRunOutcome(
            runID: recorder.runID, status: status, answer: answer, message: message, steps: steps, toolCalls: proposals,
            executed: executed, denied: denied, degenerate: degenerate)
    }
}
