import AirlockCore
import Foundation
import Model
import Policy
import Sandbox
import Secrets
import Tools
import Trace

extension AgentRun {
    /// Threat tags of the agent's own budget denial.
    static let budgetTags = ["maestro:L3", "asi:08"]

    /// Takes one proposed call through validate → policy → approval → sandbox and returns what
    /// the model is told. Throws ``TraceError`` (the trace failed) or ``Stop`` (the run ends).
    func handle(_ call: ModelToolCall, id: String) async throws -> String {
        proposals += 1
        let parsed: JSONValue?
        var problem: String?
        do {
            parsed = try JSONParser().parse(call.arguments)
        } catch {
            parsed = nil
            problem = "the arguments are not valid JSON (\(error))"
        }
        var proposed: [String: JSONValue] = [
            "call_id": .string(id), "tool": .string(call.name), "arguments": parsed ?? .string(call.arguments),
            "step": .integer(Int64(steps)),
        ]
        if parsed == nil { proposed["arguments_text"] = .string(call.arguments) }
        try recorder.append(.toolProposed, .object(proposed))
        progress(.proposed(callID: id, tool: call.name, arguments: redacted(call.arguments)))

        if proposals > budgets.maxToolCalls {
            let reason = "The run has proposed \(proposals) tool calls, above its budget of \(budgets.maxToolCalls)."
            try recorder.append(
                .policyDecision,
                [
                    "call_id": .string(id), "decision": "deny", "rules": ["agent.budget.tool-calls"],
                    "reasons": [.string(reason)], "tags": .array(Self.budgetTags.map(JSONValue.string)),
                ])
            denied += 1
            progress(.decided(callID: id, effect: "deny", rules: ["agent.budget.tool-calls"]))
            throw Stop(
                status: .budgetExhausted, message: "the tool-call budget (\(budgets.maxToolCalls) calls) is spent",
                stage: "budget")
        }

        if elapsed >= budgets.wallSeconds {
            throw Stop(
                status: .budgetExhausted, message: "the wall-time budget (\(budgets.wallSeconds) s) is spent",
                stage: "budget")
        }
        let tool = try tools[call.name] ?? registered(call.name)
        let arguments = parsed ?? .string(call.arguments)
        var schemaErrors: [String] = []
        if let problem { schemaErrors.append(problem) }
        if let tool, let parsed { schemaErrors += tool.manifest.input.validate(parsed).map(\.description) }
        if tool == nil {
            problem = "unknown tool \(call.name) (this workflow offers: \(loop.workflow.tools.joined(separator: ", ")))"
        } else if !schemaErrors.isEmpty {
            problem = schemaErrors.joined(separator: "; ")
        }
        if let problem {
            try recorder.append(
                .error, ["stage": "proposal", "code": "malformed-call", "message": .string("\(id): \(problem)")])
            progress(.malformed(callID: id, problem: problem))
        }

        var input = PolicyInput(
            toolName: call.name, arguments: arguments, tool: tool.map { facts(of: $0, schemaErrors: schemaErrors) },
            workflowAllowedTools: loop.workflow.tools,
            principal: PolicyInput.Principal(
                user: loop.configuration.user, role: loop.workflow.role, workflow: loop.workflow.name,
                agent: loop.configuration.agent),
            context: runContext())
        var decision = loop.policy.evaluate(input)
        loop.configuration.decisionObserver?(id, input, decision)
        try record(decision, id: id)

        if decision.effect == .ask {
            let answer = try await approve(call.name, arguments: arguments, decision: decision, id: id)
            if answer.granted {
                let digest = ArgumentDigest.digest(tool: call.name, arguments: arguments)
                approvals.append(
                    PolicyInput.Approval(tool: call.name, argumentsDigest: digest, by: answer.approver, at: now))
                input.context = runContext()
                decision = loop.policy.evaluate(input)
                loop.configuration.decisionObserver?(id, input, decision)
                try record(decision, id: id, afterApproval: true)
            } else {
                return try refuse(
                    id: id,
                    reason:
                        "a person must approve this call and the approval was refused (\(answer.approver): \(answer.reason))",
                    decision: decision)
            }
        }
        guard decision.effect == .allow, let tool else {
            return try refuse(id: id, reason: "denied by policy", decision: decision)
        }
        consecutiveDenials = 0
        return try await execute(tool, arguments: arguments, id: id)
    }

    var now: Double { Date().timeIntervalSince1970 }

    /// A registered tool outside the workflow's list, so that the policy sees its facts and says
    /// `builtin.not-in-workflow` rather than `unknown-tool`. Names with `@` are never resolved.
    func registered(_ name: String) throws -> RegisteredTool? {
        guard !name.contains("@"), !name.isEmpty else { return nil }
        do {
            return try loop.registry.resolve(name)
        } catch {
            if error.code == .unknownTool { return nil }
            throw Stop(status: .failed, message: "the registry could not be read: \(error)", stage: "registry")
        }
    }

    /// The policy's view of the run so far.
    func runContext() -> PolicyInput.RunContext {
        PolicyInput.RunContext(
            step: Int64(steps), callsByTool: callsByTool, totalCalls: Int64(executed), elapsedSeconds: elapsed,
            outputBytes: outputBytes, labels: labels.sorted(), approvals: approvals, recentCalls: recentCalls, now: now)
    }

    /// The policy's facts about a registered tool, with the executable's digest measured now.
    func facts(of tool: RegisteredTool, schemaErrors: [String]) -> ToolFacts {
        let manifest = tool.manifest.facts
        let current = (try? Data(contentsOf: tool.objectURL)).map { SHA256.hex($0) } ?? "missing"
        return ToolFacts(
            name: manifest.name, version: manifest.version, risk: manifest.risk, readsLabels: manifest.readsLabels,
            outputLabels: manifest.outputLabels, writesOutsideWorkspace: manifest.writesOutsideWorkspace,
            pinnedDigest: manifest.pinnedDigest, currentDigest: current, schemaErrors: schemaErrors)
    }

    private func record(_ decision: Decision, id: String, afterApproval: Bool = false) throws(TraceError) {
        var payload: [String: JSONValue] = [
            "call_id": .string(id), "decision": .string(decision.effect.rawValue),
            "rules": .array(decision.rules.map(JSONValue.string)),
            "reasons": .array(decision.reasons.map(JSONValue.string)),
            "tags": .array(decision.tags.map(JSONValue.string)),
            "approvals": .array(decision.approvals.map(JSONValue.string)),
            "policy": ["name": .string(decision.policyName), "digest": .string(decision.policyDigest)],
        ]
        if afterApproval { payload["after_approval"] = true }
        try recorder.append(.policyDecision, .object(payload))
        progress(.decided(callID: id, effect: decision.effect.rawValue, rules: decision.rules))
    }

    /// Pre-approved tools are granted; in mode `ask` the approver is asked; otherwise denied.
    private func approve(_ tool: String, arguments: JSONValue, decision: Decision, id: String) async throws(TraceError)
        -> ApprovalAnswer
    {
        let digest = ArgumentDigest.digest(tool: tool, arguments: arguments)
        try recorder.append(
            .approvalRequested,
            [
                "call_id": .string(id), "tool": .string(tool), "arguments_sha256": .string(digest),
                "reasons": .array(decision.reasons.map(JSONValue.string)),
                "tags": .array(decision.tags.map(JSONValue.string)),
            ])
        let answer: ApprovalAnswer
        if loop.workflow.preApproved.contains(tool) || loop.configuration.preApproved.contains(tool) {
            answer = ApprovalAnswer(
                granted: true, approver: "\(loop.configuration.user) (pre-approved)",
                reason: "tool \(tool) is pre-approved for this run")
        } else if loop.workflow.approval == .deny {
            answer = ApprovalAnswer(
                granted: false, approver: "workflow", reason: "the workflow's approval mode is deny")
        } else if let approver = loop.configuration.approver {
            answer = await approver.decide(
                ApprovalRequest(
                    callID: id, tool: tool, arguments: arguments, argumentsDigest: digest, rules: decision.rules,
                    reasons: decision.reasons, tags: decision.tags))
        } else {
            answer = ApprovalAnswer(
                granted: false, approver: "no-terminal",
                reason: "no terminal to ask on; pre-approve with --approve \(tool)")
        }
        try recorder.append(
            answer.granted ? .approvalGranted : .approvalDenied,
            [
                "call_id": .string(id), "approver": .string(answer.approver), "arguments_sha256": .string(digest),
                "reason": .string(answer.reason),
            ])
        progress(.approval(callID: id, granted: answer.granted, approver: answer.approver))
        return answer
    }

    /// Records a refusal, tells the model, and trips the circuit breaker after too many in a row.
    private func refuse(id: String, reason: String, decision: Decision) throws -> String {
        denied += 1
        consecutiveDenials += 1
        let content: JSONValue = [
            "error": .string("call refused: \(reason)"), "rules": .array(decision.rules.map(JSONValue.string)),
            "reasons": .array(decision.reasons.map(JSONValue.string)),
        ]
        let text = content.canonicalString
        try recorder.append(.toolResult, ["call_id": .string(id), "content": .string(text), "refused": true])
        if consecutiveDenials >= loop.configuration.maxConsecutiveDenials {
            throw Stop(
                status: .denied,
                message:
                    "\(consecutiveDenials) calls in a row were refused; the run ended (last: \(decision.rules.joined(separator: ", ")))",
                stage: "policy")
        }
        return text
    }

    /// Runs an allowed call in the sandbox and feeds its output back within the manifest's cap.
    private func execute(_ tool: RegisteredTool, arguments: JSONValue, id: String) async throws -> String {
        let name = tool.manifest.name
        let result: ToolRunResult
        do {
            result = try await loop.runner.run(
                tool, arguments: arguments, context: loop.context,
                call: ToolCallIdentity(
                    runID: recorder.runID, argumentsDigest: ArgumentDigest.digest(tool: name, arguments: arguments)))
        } catch {
            try recorder.append(
                .error, ["stage": "tool", "code": .string(error.code.rawValue), "message": .string(error.description)])
            if error.code == .sandbox { throw Stop(status: .failed, message: error.description, stage: "sandbox") }
            denied += 1
            let content = (["error": .string("the call could not run: \(error.message)")] as JSONValue).canonicalString
            try recorder.append(.toolResult, ["call_id": .string(id), "content": .string(content), "refused": true])
            return content
        }
        executed += 1
        callsByTool[name, default: 0] += 1
        recentCalls.append(PolicyInput.CallRecord(tool: name, at: now))
        if recentCalls.count > 64 { recentCalls.removeFirst(recentCalls.count - 64) }
        try recorder.append(
            .toolExecuted,
            [
                "call_id": .string(id), "tool": .string(result.tool),
                "argv": .array(result.arguments.map(JSONValue.string)),
                "exit_code": .integer(Int64(result.exitCode)),
                "record": JSONValue.encoding(redacted(result.record)) ?? [:],
            ])
        progress(.executed(callID: id, tool: name, exitCode: result.exitCode, seconds: result.record.wallSeconds))

        // Redacted piece by piece before any JSON escaping, so that a value with quotes or
        // backslashes is still found; then once more as a whole.
        let output = redacted(result.output)
        var content = output
        if result.exitCode != 0 || result.record.timedOut {
            let stderr = redacted(result.stderrTail)
            content =
                ([
                    "error": .string(
                        result.record.timedOut ? "the tool timed out" : "the tool exited \(result.exitCode)"),
                    "stderr": .string(stderr), "stdout": .string(output),
                ] as JSONValue).canonicalString
        } else if let problem = result.outputProblem {
            content = (["error": .string(redacted(problem)), "stdout": .string(output)] as JSONValue).canonicalString
        }
        content = redacted(content)
        let cap = tool.manifest.output.maxBytes
        let truncated = content.utf8.count > cap
        if truncated { content = Self.prefix(content, bytes: cap) }
        outputBytes += Int64(content.utf8.count)
        labels.formUnion(tool.manifest.outputLabels)
        var payload: [String: JSONValue] = [
            "call_id": .string(id), "content": .string(content),
            "truncated": .bool(truncated || result.outputTruncated), "bytes": .integer(Int64(content.utf8.count)),
            "labels": .array(tool.manifest.outputLabels.map(JSONValue.string)),
        ]
        // Counted from the markers, so that a replay of the recorded (already redacted) output
        // records the same.
        let redactions = SecretRedactor.markers(in: content)
        if !redactions.isEmpty {
            payload["redactions"] = .array(
                redactions.keys.sorted().map { ["secret": .string($0), "count": .integer(Int64(redactions[$0] ?? 0))] })
        }
        try recorder.append(.toolResult, .object(payload))
        return content
    }

    /// The record as the trace keeps it: each output stream redacted, its kept bytes being the
    /// redacted ones, so that a replay decoding the record re-encodes it byte for byte.
    func redacted(_ record: ExecutionRecord) -> ExecutionRecord {
        record.mappingOutputs { redacted($0) }
    }

    /// The longest prefix of `text` of at most `bytes` UTF-8 bytes that ends on a character boundary.
    static func prefix(_ text: String, bytes: Int) -> String { SecretRedactor.prefix(text, bytes: bytes) }
}
