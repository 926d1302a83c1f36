import AirlockCore
import Foundation
import Synchronization

/// A model that plays written-out responses in order, for demos and tests; the trace records it
/// as `scripted`.
///
/// ```yaml
/// airlock_model_script: 1
/// responses:
///   - tool_calls:
///       - {name: logs.search, arguments: {pattern: ERROR}}       # an object, or a JSON string
///       - {id: c2, name: workspace.note, arguments: '{"text": "x"}'}
///   - content: "The answer."
/// ```
/// A response may have `content`, `tool_calls` or both. `arguments` given as a string are sent
/// as written (so a script can send malformed JSON); an object is sent as canonical JSON.
public final class ScriptedModel: ChatModel {
    /// The responses, in order.
    public let responses: [ChatResponse]
    /// Where they came from (for the trace).
    public let name: String
    private let next = Mutex(0)

    /// Always `scripted`.
    public var kind: String { "scripted" }

    /// Creates a model from responses.
    public init(responses: [ChatResponse], name: String = "scripted") {
        self.responses = responses
        self.name = name
    }

    /// Loads a script file.
    /// - Throws: ``ModelError`` `io` or `invalid-script` naming the field and line.
    public convenience init(contentsOf url: URL) throws(ModelError) {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ModelError(.io, "cannot read the model script \(url.path)", cause: error)
        }
        self.init(responses: try Self.parse(text, label: url.path), name: "scripted:\(url.lastPathComponent)")
    }

    /// Parses a script's text.
    /// - Throws: ``ModelError`` `invalid-script` naming the field and line.
    public static func parse(_ text: String, label: String) throws(ModelError) -> [ChatResponse] {
        let document = try DocumentReader.parse(text) {
            ModelError(.invalidScript, "\(label): not valid YAML", problems: $0)
        }
        var reader = DocumentReader(document)
        var result: [ChatResponse] = []
        let fields = ["content", "tool_calls", "finish_reason"]
        let list = document.value["responses"].flatMap { reader.array($0, at: "/responses") }
        if document.value["responses"] == nil { reader.fail("/responses", "must be a list of responses") }
        for (index, entry) in (list ?? []).enumerated() {
            let at = "/responses/\(index)"
            let before = reader.count
            guard reader.object(entry, at: at, allowed: fields) != nil else { continue }
            let content = entry["content"].flatMap { reader.string($0, at: at + "/content", nonEmpty: false) }
            var calls: [ModelToolCall] = []
            for (c, call) in (entry["tool_calls"].flatMap { reader.array($0, at: at + "/tool_calls") } ?? [])
                .enumerated()
            {
                let callAt = "\(at)/tool_calls/\(c)"
                guard let name = reader.string(call["name"] ?? .null, at: callAt + "/name", nonEmpty: false) else {
                    continue
                }
                let arguments: String
                switch call["arguments"] {
                case .string(let text): arguments = text
                case nil: arguments = "{}"
                case .some(let value): arguments = value.canonicalString
                }
                calls.append(ModelToolCall(id: call["id"]?.stringValue, name: name, arguments: arguments))
            }
            if content == nil && calls.isEmpty && reader.count == before {
                reader.fail(at, "needs content or tool_calls")
            }
            result.append(
                ChatResponse(
                    message: ChatMessage(role: .assistant, content: content, toolCalls: calls),
                    finishReason: entry["finish_reason"]?.stringValue ?? (calls.isEmpty ? "stop" : "tool_calls")))
        }
        if list != nil && result.isEmpty && reader.isEmpty {
            reader.fail("/responses", "must hold at least one response")
        }
        guard reader.isEmpty else {
            let count = reader.count
            let problems = reader.problems.lines.joined(separator: "; ")
            throw ModelError(.invalidScript, "\(label): \(count) problem\(count == 1 ? "" : "s"): \(problems)")
        }
        return result
    }

    /// Returns the next written-out response, whatever the request.
    /// - Throws: ``ModelError`` `script-exhausted` when every response was played.
    public func complete(_ request: ChatRequest) async throws(ModelError) -> ChatResponse {
        let index = next.withLock { value in
            defer { value += 1 }
            return value
        }
        guard index < responses.count else {
            throw ModelError(
                .scriptExhausted,
                "\(name): all \(responses.count) scripted responses were played; the run asked for more")
        }
        return responses[index]
    }
}
