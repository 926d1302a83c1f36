import AirlockCore
import Foundation
import Model
import Policy
import RunEvents
import Sandbox
import Secrets
import Tools
import Trace

extension AgentRun {
    /// Threat tags of the agent's own budget denial.
    static let budgetTags = ["maestro:L3", "asi:08"]

    /// Takes one proposed call through validate → policy → approval → sandbox and returns what
    /// the model is told. Throws ``TraceError`` (the trace failed) or ``Stop`` (the run ends).
    /// - Parameter origin: who proposed it when not the model (`plan`), as `tool.proposed` records.
    func handle(_ call: ModelToolCall, id: String, origin: String? = nil) async throws -> String {
        proposals += 1
        let parsed: JSONValue?
        var problem: String?
        do {
            parsed = try JSONParser().parse(call.arguments)
        } catch {
            parsed = nil
            problem = "the arguments are not valid JSON (\(error))"
        }
        // The tool is resolved before the proposal is recorded, so that the record carries the
        // executable's digest as measured for this call (and, for a tool outside the workflow,
        // its manifest): a replay judges the proposal on the same facts.
        let tool = try tools[call.name] ?? unlisted(call.name, id: id)
        let measured = tool.map { loop.catalog.measuredDigest(of: $0, callID: id) }
        try record(
            ToolProposed(
                callID: id, tool: call.name, arguments: parsed ?? .string(call.arguments),
                argumentsText: parsed == nil ? call.arguments : nil, step: steps, executableSHA256: measured,
                manifest: tools[call.name] == nil ? tool?.manifest.document : nil, origin: origin))
        progress(.proposed(callID: id, tool: call.name, arguments: redacted(call.arguments)))

        if proposals > budgets.maxToolCalls {
            let reason = "The run has proposed \(proposals) tool calls, above its budget of \(budgets.maxToolCalls)."
            try record(
                PolicyDecisionRecord(
                    callID: id, decision: "deny", rules: ["agent.budget.tool-calls"], reasons: [reason],
                    tags: Self.budgetTags))
            denied += 1
            progress(.decided(callID: id, effect: "deny", rules: ["agent.budget.tool-calls"]))
            throw Stop(
                status: .budgetExhausted, message: "the tool-call budget (\(budgets.maxToolCalls) calls) is spent",
                stage: "budget")
        }

        if elapsed >= budgets.wallSeconds {
            throw Stop(status: .budgetExhausted, message: "\(wallBudget) is spent", stage: "budget")
        }
        // A call identical to one that ran (same tool, same arguments) is answered from the
        // record, not run again; one repeat too many ends the run.
        if let parsed {
            let digest = ArgumentDigest.digest(tool: call.name, arguments: parsed)
            if let earlier = ran[digest] { return try repeated(earlier, digest: digest, tool: call.name, id: id) }
        }
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
            try record(RunError(stage: "proposal", code: "malformed-call", message: "\(id): \(problem)"))
            progress(.malformed(callID: id, problem: problem))
        }

        var input = PolicyInput(
            toolName: call.name, arguments: arguments,
            tool: tool.map { facts(of: $0, measured: measured ?? "missing", schemaErrors: schemaErrors) },
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
                    PolicyInput.Approval(
                        tool: call.name, argumentsDigest: digest, by: answer.identity ?? answer.approver, at: now))
                input.context = runContext()
                decision = loop.policy.evaluate(input)
                loop.configuration.decisionObserver?(id, input, decision)
                try record(decision, id: id, afterApproval: true)
                // A grant for this call only is spent once the policy has counted it: a later
                // identical call asks again.
                if answer.scope == .once { approvals.removeLast() }
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

    /// A registered tool outside the workflow's list, so that the policy sees its facts and says
    /// `builtin.not-in-workflow` rather than `unknown-tool`.
    func unlisted(_ name: String, id: String) throws -> RegisteredTool? {
        do {
            return try loop.catalog.unlisted(name, callID: id)
        } catch {
            throw Stop(status: .failed, message: "the registry could not be read: \(error)", stage: "registry")
        }
    }

    /// The policy's view of the run so far.
    func runContext() -> PolicyInput.RunContext {
        PolicyInput.RunContext(
            step: Int64(steps), callsByTool: callsByTool, totalCalls: Int64(executed), elapsedSeconds: elapsed,
            outputBytes: outputBytes, labels: labels.sorted(), approvals: approvals, recentCalls: recentCalls, now: now)
    }

    /// The policy's facts about a registered tool, with the executable's digest measured for the call.
    func facts(of tool: RegisteredTool, measured current: String, schemaErrors: [String]) -> ToolFacts {
        // A manifest's facts (its digest among them, a hash of the whole document) are worked
        // out once per run and tool revision, not per proposal.
        let key = "\(tool.reference)#\(tool.revision)"
        let manifest = manifestFacts[key] ?? tool.manifest.facts
        manifestFacts[key] = manifest
        return ToolFacts(
            name: manifest.name, version: manifest.version, risk: manifest.risk, readsLabels: manifest.readsLabels,
            outputLabels: manifest.outputLabels, writesOutsideWorkspace: manifest.writesOutsideWorkspace,
            pinnedDigest: manifest.pinnedDigest, currentDigest: current, schemaErrors: schemaErrors,
            network: manifest.network)
    }

    private func record(_ decision: Decision, id: String, afterApproval: Bool = false) throws(TraceError) {
        try record(
            PolicyDecisionRecord(
                callID: id, decision: decision.effect.rawValue, rules: decision.rules, reasons: decision.reasons,
                tags: decision.tags, approvals: decision.approvals,
                policy: .init(name: decision.policyName, digest: decision.policyDigest),
                afterApproval: afterApproval ? true : nil))
        progress(.decided(callID: id, effect: decision.effect.rawValue, rules: decision.rules))
    }

    /// Answers a call identical to one that already ran with that call's result and a note, or
    /// ends the run when it is repeated more than `budgets.max_repeats` times.
    private func repeated(
        _ earlier: (callID: String, content: String), digest: String, tool: String, id: String
    ) throws -> String {
        let count = (repeats[digest] ?? 0) + 1
        repeats[digest] = count
        guard count <= budgets.maxRepeats else {
            throw Stop(
                status: .repeating,
                message:
                    "\(id) repeats \(earlier.callID) (\(tool), the same arguments) for the \(Self.ordinal(count)) time, more than budgets.max_repeats (\(budgets.maxRepeats)) allows; the run ended",
                stage: "repeat")
        }
        let note =
            "This call repeats \(earlier.callID) (\(tool) with the same arguments), which already ran: its result is given again below and the tool did not run again. Use other arguments or give your answer; repeating a call more than \(budgets.maxRepeats) time(s) ends the run."
        let content = redacted(
            ([
                "note": .string(note), "repeat_of": .string(earlier.callID), "result": .string(earlier.content),
            ] as JSONValue).canonicalString)
        try record(ToolResult(callID: id, content: content, bytes: content.utf8.count, repeatOf: earlier.callID))
        repeatedLastStep = true
        progress(.repeated(callID: id, of: earlier.callID))
        return content
    }

    /// `2nd`, `3rd`, `4th`: how many times a call was repeated, in words a person reads.
    static func ordinal(_ n: Int) -> String {
        let suffix =
            (11...13).contains(n % 100) ? "th" : n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th"
        return "\(n)\(suffix)"
    }

    /// Pre-approved tools are granted (unless the policy requires an approver other than the
    /// principal); in mode `ask` the approver is asked, for up to the workflow's
    /// `approval.timeout`; otherwise denied.
    /// - Throws: ``TraceError``, or ``Stop`` `cancelled` when the run is cancelled around the
    ///   question to a person.
    private func approve(_ tool: String, arguments: JSONValue, decision: Decision, id: String) async throws
        -> ApprovalAnswer
    {
        let digest = ArgumentDigest.digest(tool: tool, arguments: arguments)
        let user = loop.configuration.user
        let separate = decision.separateFromPrincipal
        // A pre-approval is the principal's own (or the workflow author's): it cannot stand in
        // for someone else.
        let preApproved =
            !separate && (loop.workflow.preApproved.contains(tool) || loop.configuration.preApproved.contains(tool))
        let approver = preApproved || loop.workflow.approval == .deny ? nil : loop.configuration.approver
        let requestID = approver.map { _ in ApprovalRequest.identifier(runID: recorder.runID, proposal: proposals) }
        let timeout = loop.workflow.approvalTimeoutSeconds
        try record(
            ApprovalRequested(
                callID: id, tool: tool, argumentsSHA256: digest, rules: decision.rules, reasons: decision.reasons,
                tags: decision.tags, requestID: requestID, timeoutSeconds: approver == nil ? nil : timeout,
                separateFromPrincipal: separate ? true : nil))
        var answer: ApprovalAnswer
        if preApproved {
            answer = ApprovalAnswer(
                granted: true, approver: "\(user) (pre-approved)", reason: "tool \(tool) is pre-approved for this run",
                scope: .run, source: .preApproved)
        } else if loop.workflow.approval == .deny {
            answer = ApprovalAnswer(
                granted: false, approver: "workflow", reason: "the workflow's approval mode is deny", source: .workflow)
        } else if let approver, let requestID {
            // Asked before the question and after it, both after `approval.requested`: an answer
            // that comes after the run was cancelled is not recorded.
            try checkCancellation("while \(id) (\(tool)) waited for an approval")
            // A barrier: the request a person answers is on disk before they are asked.
            try commit()
            answer = await approver.decide(
                ApprovalRequest(
                    id: requestID, runID: recorder.runID, workflow: loop.workflow.name, principal: user, callID: id,
                    tool: tool, arguments: arguments, argumentsText: redacted(arguments.canonicalString),
                    argumentsDigest: digest, rules: decision.rules, reasons: decision.reasons, tags: decision.tags,
                    separateFromPrincipal: separate, timeoutSeconds: timeout))
            try checkCancellation("while \(id) (\(tool)) waited for an approval")
            // The approvers refuse a self-approval themselves; this is the loop's own check.
            if separate, answer.granted, answer.identity == nil || answer.identity == user {
                answer = ApprovalAnswer(
                    granted: false, approver: answer.approver,
                    reason: "the policy requires someone other than \(user) to approve this call",
                    identity: answer.identity,
                    source: answer.source)
            }
        } else {
            answer = ApprovalAnswer(
                granted: false, approver: "no-terminal",
                reason: "no terminal to ask on; pre-approve with --approve \(tool)",
                source: .noTerminal)
        }
        try record(
            ApprovalAnswered(
                callID: id, approver: answer.approver, argumentsSHA256: digest, reason: answer.reason,
                source: answer.source, identity: answer.identity, scope: answer.granted ? answer.scope : nil),
            granted: answer.granted)
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
        try record(ToolResult(callID: id, content: text, refused: true))
        if consecutiveDenials >= loop.configuration.maxConsecutiveDenials {
            throw Stop(
                status: .denied,
                message:
                    "\(consecutiveDenials) calls in a row were refused; the run ended (last: \(decision.rules.joined(separator: ", ")))",
                stage: "policy")
        }
        return text
    }

    /// Runs an allowed call in the sandbox, within what is left of the wall-time budget, and
    /// feeds its output back within the manifest's cap.
    private func execute(_ tool: RegisteredTool, arguments: JSONValue, id: String) async throws -> String {
        let name = tool.manifest.name
        let digest = ArgumentDigest.digest(tool: name, arguments: arguments)
        try checkCancellation("before \(id) (\(name)) ran")
        // A barrier: the proposal, the decision and any approval that let the tool run are on
        // disk before it runs.
        try commit()
        let result: ToolRunResult
        do {
            result = try await loop.steps.perform(
                tool, arguments: arguments, context: loop.context,
                call: ToolCallIdentity(runID: recorder.runID, argumentsDigest: digest, callID: id),
                timeLimit: remainingSeconds)
        } catch {
            try record(RunError(stage: "tool", code: error.code, message: error.description, summary: error.message))
            if error.sandboxUnavailable {
                throw Stop(status: .failed, message: error.description, stage: "sandbox")
            }
            denied += 1
            let content = (["error": .string("the call could not run: \(error.message)")] as JSONValue).canonicalString
            try record(ToolResult(callID: id, content: content, refused: true))
            try commit()
            return content
        }
        executed += 1
        callsByTool[name, default: 0] += 1
        recentCalls.append(PolicyInput.CallRecord(tool: name, at: now))
        if recentCalls.count > 64 { recentCalls.removeFirst(recentCalls.count - 64) }
        try record(
            ToolExecuted(
                callID: id, tool: result.tool, argv: result.arguments, exitCode: result.exitCode,
                record: redacted(result.record), workspaceChanges: result.workspaceChanges.map { redacted($0.changes) },
                workspaceChangesCut: result.workspaceChanges?.cut, idempotencyKey: result.idempotencyKey))
        // A failed call's stderr, redacted as the trace holds it, is what the analyst needs first.
        let stderr = result.exitCode == 0 ? "" : redacted(result.record).stderr.text
        progress(
            .executed(
                callID: id, tool: name, exitCode: result.exitCode, seconds: result.record.wallSeconds,
                stderrTail: stderr.isEmpty ? nil : Self.tail(stderr, lines: AgentProgress.stderrTailLines)))
        // The execution is evidence either way; the model is not told about a call the run's
        // end cut short.
        try checkCancellation("while \(id) (\(name)) ran in the sandbox")
        if result.record.timedOut, elapsed >= budgets.wallSeconds {
            throw Stop(
                status: .budgetExhausted, message: "\(wallBudget) ran out while \(id) (\(name)) ran", stage: "budget")
        }

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
        // Within the workflow's budget for one result, the model is shown a summary; the whole
        // output is the execution record's.
        var summarisedFrom: Int?
        if let budget = loop.workflow.model.toolResultBytes,
            let summary = ToolResultSummary.summarised(content, budget: budget)
        {
            summarisedFrom = content.utf8.count
            content = summary
        }
        outputBytes += Int64(content.utf8.count)
        labels.formUnion(tool.manifest.outputLabels)
        // Counted from the markers, so that a replay of the recorded (already redacted) output
        // records the same.
        let redactions = SecretRedactor.markers(in: content)
        try record(
            ToolResult(
                callID: id, content: content, truncated: truncated || result.outputTruncated,
                bytes: content.utf8.count, labels: tool.manifest.outputLabels,
                redactions: redactions.isEmpty
                    ? nil
                    : redactions.keys.sorted().map { ToolResult.Redaction(secret: $0, count: redactions[$0] ?? 0) },
                summarisedFrom: summarisedFrom))
        // A barrier: what the tool did and what the model is told are on disk together.
        try commit()
        if ran[digest] == nil { ran[digest] = (id, content) }
        return content
    }

    /// The record as the trace keeps it: each output stream redacted, its kept bytes being the
    /// redacted ones, so that a replay decoding the record re-encodes it byte for byte.
    func redacted(_ record: ExecutionRecord) -> ExecutionRecord {
        record.mappingOutputs { redacted($0) }
    }

    /// Workspace changes as the trace keeps them: content redacted, and a file whose content held
    /// a secret recorded without its digest (a short file's digest would let its secret be guessed).
    /// Already-redacted changes (a replay's) come back unchanged.
    func redacted(_ changes: [FileChange]) -> [FileChange] {
        changes.map { change in
            var change = change
            if let content = change.content {
                let clean = redacted(content)
                if clean != content {
                    change.content = clean
                    change.sha256 = nil
                    change.omitted = "digest: withheld, the content held a secret (its content is recorded redacted)"
                }
            }
            return change
        }
    }

    /// The longest prefix of `text` of at most `bytes` UTF-8 bytes that ends on a character boundary.
    static func prefix(_ text: String, bytes: Int) -> String { SecretRedactor.prefix(text, bytes: bytes) }

    /// The last `lines` non-empty lines of `text`, at most 1,000 characters.
    static func tail(_ text: String, lines: Int) -> String {
        let kept = text.split(whereSeparator: \.isNewline).suffix(lines).joined(separator: "\n")
        return kept.count > 1000 ? "…" + String(kept.suffix(1000)) : kept
    }
}
