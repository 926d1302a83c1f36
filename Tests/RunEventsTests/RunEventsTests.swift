import AirlockCore
import Foundation
import Model
import RunEvents
import Testing
import Trace

@Suite("Run events")
struct RunEventsTests {
    @Test("a model response round-trips through its canonical JSON, nulls included")
    func modelResponseRoundTrip() throws {
        let response = ModelResponse(
            model: "scripted:x", kind: "scripted", step: 2, content: nil,
            toolCalls: [ModelToolCall(id: "call-2-1", name: "grep", arguments: #"{"q":"a"}"#)], finishReason: nil,
            usage: .init(inputTokens: 12, outputTokens: nil))
        let json = response.json
        #expect(json["content"] == .null)
        #expect(json["usage"]?["output_tokens"] == .null)
        #expect(json["tool_calls"]?.arrayValue?.first?["function"]?["name"] == "grep")
        #expect(try ModelResponse.decode(json, seq: 3) == response)
    }

    @Test("a payload with a field of the wrong kind names the event and the field")
    func badField() throws {
        var json = RunFinished(
            status: "succeeded", message: "m", steps: 1, toolCalls: 0, executed: 0, denied: 0, labels: [], answer: "a"
        ).json
        guard case .object(var fields) = json else { return }
        fields["steps"] = "one"
        json = .object(fields)
        let error = #expect(throws: RunEventError.self) { try RunFinished.decode(json, seq: 9) }
        #expect(error?.description.contains("event 9 (run.finished)") == true)
        #expect(error?.description.contains("/steps") == true)
    }

    @Test("every typed payload carries the fields the trace's schema requires")
    func requiredFields() throws {
        let samples: [(TraceEventType, JSONValue)] = [
            (.modelRequest, ModelRequest(model: "m", kind: "k", step: 1, messages: [], messageCount: 0).json),
            (
                .toolProposed,
                ToolProposed(callID: "c", tool: "t", arguments: [:], argumentsText: nil, step: 1).json
            ),
            (
                .policyDecision,
                PolicyDecisionRecord(callID: "c", decision: "deny", rules: [], reasons: [], tags: []).json
            ),
            (
                .approvalRequested,
                ApprovalRequested(callID: "c", tool: "t", argumentsSHA256: "d", rules: [], reasons: [], tags: []).json
            ),
            (
                .approvalGranted,
                ApprovalAnswered(callID: "c", approver: "a", argumentsSHA256: "d", reason: "r", source: .person).json
            ),
            (.toolResult, ToolResult(callID: "c", content: "x").json),
            (.error, RunError(stage: "model", code: "timeout", message: "m").json),
        ]
        for (type, payload) in samples { try type.validate(payload) }
    }

    @Test("docs/trace.md documents every field of every typed payload")
    func documented() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let doc = try String(contentsOf: repository.appendingPathComponent("docs/trace.md"), encoding: .utf8)
        for (type, fields) in DocumentedFields.all {
            guard let start = doc.range(of: "### `\(type.rawValue)`") else {
                Issue.record("docs/trace.md has no section ### `\(type.rawValue)`")
                continue
            }
            let rest = doc[start.upperBound...]
            let section = rest.range(of: "\n### ").map { rest[..<$0.lowerBound] } ?? rest
            // A nested field (`model.sampling`) is named by its own key inside its parent's entry.
            for field in fields where !section.contains("`\(field.split(separator: ".").last ?? "")`") {
                Issue.record("docs/trace.md, section \(type.rawValue): field `\(field)` is not documented")
            }
        }
    }
}

/// Every field of every typed payload, collected by encoding a sample with every optional field
/// set: what docs/trace.md must name.
enum DocumentedFields {
    static func keys(_ value: JSONValue, prefix: String = "", depth: Int = 0) -> [String] {
        guard let fields = value.objectValue else { return [] }
        var out: [String] = []
        for (key, inner) in fields.sorted(by: { $0.key < $1.key }) {
            out.append(prefix + key)
            // run.started's nested records (model.sampling, …) are documented one level down.
            if depth == 0, key != "parameters", key != "manifest", key != "arguments", key != "record" {
                out += keys(inner.arrayValue?.first ?? inner, prefix: prefix + key + ".", depth: 1)
            }
        }
        return out
    }

    static var all: [(TraceEventType, [String])] {
        let started = RunStarted(
            workflow: "w", principal: "p", role: "r", agent: "a", airlock: "0", parameters: ["k": 1],
            workflowFile: .init(sha256: "s", text: "t", path: "f"),
            policy: .init(name: "n", digest: "d", sha256: "s", text: "t", path: "f"),
            tools: [.init(name: "n", version: "1", manifestSHA256: "m", executableSHA256: "e", manifest: [:])],
            model: .init(
                name: "m", kind: "k", toolCalling: .constrained,
                sampling: .init(temperature: 0.2, maxTokens: 1, seed: 1),
                embedded: .init(
                    name: "n", modelFile: "f", modelSHA256: "s", server: "v", serverSHA256: "s", lockSHA256: "l",
                    serverNetwork: "n"),
                constrained: .init(replySchemaSHA256: "r", excludedTools: [:])),
            budgets: .init(maxSteps: 1, maxToolCalls: 1, wallSeconds: 1), breaker: .init(maxConsecutiveDenials: 3),
            preApproved: [], recorder: .init(checkpointInterval: 64, blobThreshold: 1, maxEventBytes: 1),
            context: .init(workspace: "w", datasets: [:]))
        let samples: [(TraceEventType, JSONValue)] = [
            (.runStarted, started.json),
            (
                .modelRequest,
                ModelRequest(model: "m", kind: "k", step: 1, messages: [], messageCount: 0, answerOnly: "a").json
            ),
            (
                .modelResponse,
                ModelResponse(
                    model: "m", kind: "k", step: 1, content: "c", toolCalls: [], finishReason: "f",
                    usage: .init(inputTokens: 1, outputTokens: 1)
                ).json
            ),
            (
                .toolProposed,
                ToolProposed(
                    callID: "c", tool: "t", arguments: [:], argumentsText: "x", step: 1, executableSHA256: "e",
                    manifest: [:]
                ).json
            ),
            (
                .policyDecision,
                PolicyDecisionRecord(
                    callID: "c", decision: "deny", rules: [], reasons: [], tags: [], approvals: [],
                    policy: .init(name: "n", digest: "d"), afterApproval: true
                ).json
            ),
            (
                .approvalRequested,
                ApprovalRequested(callID: "c", tool: "t", argumentsSHA256: "d", rules: [], reasons: [], tags: []).json
            ),
            (
                .approvalGranted,
                ApprovalAnswered(callID: "c", approver: "a", argumentsSHA256: "d", reason: "r", source: .person).json
            ),
            (
                .toolResult,
                ToolResult(
                    callID: "c", content: "x", truncated: false, bytes: 1, labels: [],
                    redactions: [.init(secret: "s", count: 1)], refused: true, repeatOf: "c0"
                ).json
            ),
            (
                .runFinished,
                RunFinished(
                    status: "s", message: "m", steps: 1, toolCalls: 1, executed: 1, denied: 0, labels: [], answer: "a"
                ).json
            ),
            (.error, RunError(stage: "s", code: "c", message: "m", summary: "s").json),
        ]
        // One workspace change with every optional field set: each of its keys is named too.
        let change = FileChange(
            path: "p", kind: .file, change: .created, bytes: 1, sha256: "s", content: "c", target: "t", omitted: "o")
        let changeKeys = keys((try? JSONValueEncoder().encode(change)) ?? .null).map { "workspace_changes." + $0 }
        return samples.map { ($0.0, keys($0.1)) } + [
            (
                .toolExecuted,
                ["call_id", "tool", "argv", "exit_code", "record", "workspace_changes", "workspace_changes_cut"]
                    + changeKeys
            )
        ]
    }
}
