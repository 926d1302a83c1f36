import AirlockCore
import RunEvents
import Sandbox
import Trace

extension RunView {
    /// One piece of an event's content a reviewer reads whole: a message sent to the model, the
    /// model's text, a call's arguments, a decision's rules, reasons and threat tags, a tool's
    /// stdout or stderr, the confinement evidence.
    public struct Text: Sendable, Hashable {
        /// What it is: `user`, `stdout`, `rules`, `confinement`.
        public var label: String
        /// The text as stored (redacted by the recorder, never clipped).
        public var text: String
    }

    /// The texts of one recorded event, read through its typed payload; an event that does not
    /// decode has none (its stored JSON is still shown, and the verification says whether it is
    /// what was recorded).
    /// - Parameters:
    ///   - type: the event type.
    ///   - content: the payload with blobs resolved.
    ///   - seq: its sequence number.
    ///   - skipping: for a request to the model, how many of its first messages to leave out and
    ///     the event that showed them (one text says so in their place).
    public static func texts(type: String, content: JSONValue, seq: Int64, skipping: (count: Int, seq: Int64)? = nil)
        -> [Text]
    {
        guard let event = try? RunEvent(type: type, payload: content, seq: seq) else { return [] }
        func json<T: Encodable>(_ value: T) -> String {
            (try? JSONValueEncoder().encode(value))?.prettyString ?? ""
        }
        func list(_ label: String, _ items: [String]) -> [Text] {
            items.isEmpty ? [] : [Text(label: label, text: items.joined(separator: "\n"))]
        }
        var out: [Text] = []
        switch event {
        case .started(let started):
            out.append(Text(label: "policy \(started.policy.name)", text: started.policy.text))
            if !started.parameters.isEmpty { out.append(Text(label: "parameters", text: json(started.parameters))) }
        case .modelRequest(let request):
            if let skipping {
                out.append(
                    Text(
                        label: "earlier messages",
                        text:
                            "the first \(skipping.count) of these \(request.messages.count) messages, as sent in #\(skipping.seq)"
                    ))
            }
            for message in request.messages.dropFirst(skipping?.count ?? 0) {
                let id = message.toolCallID.map { " [\($0)]" } ?? ""
                out.append(Text(label: message.role.rawValue + id, text: message.content ?? ""))
                for call in message.toolCalls {
                    out.append(Text(label: "call [\(call.id ?? "?")] \(call.name)", text: call.arguments))
                }
            }
        case .modelResponse(let response):
            if let content = response.content, !content.isEmpty { out.append(Text(label: "text", text: content)) }
            for call in response.toolCalls {
                out.append(Text(label: "call [\(call.id ?? "?")] \(call.name)", text: call.arguments))
            }
        case .toolProposed(let proposed):
            out.append(Text(label: "arguments", text: proposed.arguments.prettyString))
        case .policyDecision(let decision):
            out.append(Text(label: "decision", text: decision.decision))
            out += list("rules", decision.rules) + list("reasons", decision.reasons) + list("threats", decision.tags)
            out += list("approvals", decision.approvals ?? [])
        case .approvalRequested(let requested):
            out.append(Text(label: "arguments sha256", text: requested.argumentsSHA256))
            out += list("rules", requested.rules ?? []) + list("reasons", requested.reasons)
            out += list("threats", requested.tags)
        case .approvalAnswered(let answer, let granted):
            out.append(Text(label: granted ? "granted by" : "denied by", text: answer.approver))
            out.append(Text(label: "arguments sha256", text: answer.argumentsSHA256))
            out.append(Text(label: "reason", text: answer.reason))
        case .toolExecuted(let executed):
            out.append(Text(label: "argv", text: executed.argv.joined(separator: "\n")))
            out.append(Text(label: "stdout", text: executed.record.stdout.text))
            out.append(Text(label: "stderr", text: executed.record.stderr.text))
            out.append(Text(label: "confinement", text: confinement(executed.record.confinement)))
            if !executed.record.deniedSyscalls.isEmpty {
                out.append(Text(label: "denied syscalls", text: json(executed.record.deniedSyscalls)))
            }
            if let network = executed.record.network { out.append(Text(label: "network", text: json(network))) }
        case .toolResult(let result):
            out.append(Text(label: "to the model", text: result.content))
        case .finished(let finished):
            if let answer = finished.answer { out.append(Text(label: "answer", text: answer)) }
            out.append(Text(label: "message", text: finished.message))
        case .error(let error):
            out.append(Text(label: error.stage, text: error.message))
        }
        return out
    }

    /// The confinement evidence, one fact a line and one mount a line (the stored event has it as
    /// JSON too).
    static func confinement(_ c: ConfinementEvidence) -> String {
        var lines = [
            "namespaces: " + c.namespaces.joined(separator: ", ")
                + (c.networkNamespace.map { " (network: \($0))" } ?? ""),
            "uid \(c.uid) gid \(c.gid); uid map \(c.uidMap); gid map \(c.gidMap)",
            "seccomp: \(c.seccompInstructions) instructions, deny action \(c.seccompDenyAction), sha256 \(c.seccompBPFSHA256)",
            "landlock ABI \(c.landlockABI); no_new_privs \(c.noNewPrivs); capabilities: \(c.capabilities)",
            "limits (\(c.cgroupVersion)): " + ((try? JSONValueEncoder().encode(c.limits))?.canonicalString ?? ""),
            "degraded layers: "
                + (c.degradedLayers.isEmpty
                    ? "none"
                    : c.degradedLayers.map { ((try? JSONValueEncoder().encode($0))?.canonicalString ?? "?") }
                        .joined(separator: ", ")),
        ]
        lines += c.mounts.map { "mount \($0.kind) \($0.source) → \($0.target) (\($0.options))" }
        return lines.joined(separator: "\n")
    }
}
