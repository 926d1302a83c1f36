import AirlockCore

/// A chat completion streamed as server-sent events (`text/event-stream`, one `data: {chunk}` per
/// token, `data: [DONE]` at the end), read as it arrives and assembled into the same whole reply a
/// server that does not stream sends, so that the agent, the trace and a replay see one shape.
///
/// What is assembled: the text deltas in order; each tool call by its `index` (its id and name
/// from the first delta that has them, its arguments concatenated); the last finish reason; the
/// last `usage` (llama-server sends it in a last event with no choices) and the last `timings`
/// (llama-server's own clock for the request).
struct StreamedReply {
    /// The events parsed so far.
    private(set) var chunks: [JSONValue] = []
    /// Tokens seen so far: events that carry text or call arguments.
    private(set) var tokens = 0
    /// Whether `data: [DONE]` was seen.
    private(set) var done = false
    /// Bytes of a line not yet ended.
    private var pending: [UInt8] = []
    /// The first event that was not JSON, if any.
    private(set) var malformed: String?

    /// The longest event line accepted, in bytes (a line is one token's chunk; this bounds a
    /// server that never ends one).
    static let maxLineBytes = 1 << 20

    /// Takes the next bytes of the body.
    mutating func feed(_ bytes: [UInt8]) {
        pending += bytes
        while let newline = pending.firstIndex(of: 10) {
            let line = pending[..<newline]
            pending.removeSubrange(...newline)
            take(line.last == 13 ? line.dropLast() : line)
        }
        if pending.count > Self.maxLineBytes, malformed == nil {
            malformed = "an event line is longer than \(Self.maxLineBytes) bytes"
            pending = []
        }
    }

    private mutating func take(_ line: ArraySlice<UInt8>) {
        let prefix = Array("data:".utf8)
        guard line.starts(with: prefix), !done else { return }
        let data = line.dropFirst(prefix.count).drop { $0 == 32 }
        if data.elementsEqual("[DONE]".utf8) {
            done = true
            return
        }
        guard let chunk = try? JSONParser().parse(Array(data)) else {
            if malformed == nil {
                malformed = "an event is not JSON: \(String(decoding: data.prefix(80), as: UTF8.self))"
            }
            return
        }
        let delta = chunk["choices"]?.arrayValue?.first?["delta"]
        let text = delta?["content"]?.stringValue ?? ""
        let arguments = (delta?["tool_calls"]?.arrayValue ?? []).compactMap {
            $0["function"]?["arguments"]?.stringValue
        }
        if !text.isEmpty || arguments.contains(where: { !$0.isEmpty }) { tokens += 1 }
        chunks.append(chunk)
    }

    /// The reply as a whole chat completion (what ``ChatResponse/init(json:)`` reads).
    /// - Throws: ``ModelError`` `malformed-response` for an event that is not JSON, an error the
    ///   server streamed, or a stream with no event.
    func completion(endpoint: ModelEndpoint) throws(ModelError) -> JSONValue {
        if let malformed { throw ModelError(.malformedResponse, "model \(endpoint): the streamed reply: \(malformed)") }
        if let error = chunks.lazy.compactMap({ $0["error"] }).first {
            throw ModelError(
                .httpStatus, "model \(endpoint): the server ended the stream with an error: \(error.canonicalString)")
        }
        guard !chunks.isEmpty else {
            throw ModelError(.malformedResponse, "model \(endpoint): the streamed reply has no event")
        }
        var content = ""
        var sawContent = false
        var calls: [Int64: (id: String?, name: String, arguments: String)] = [:]
        var finish: JSONValue = .null
        var usage: JSONValue?
        var timings: JSONValue?
        for chunk in chunks {
            if let value = chunk["usage"], value != .null { usage = value }
            // llama-server's own clock for the request (`prompt_ms`, `predicted_ms`, …), sent with
            // the last event as for a whole reply.
            if let value = chunk["timings"], value != .null { timings = value }
            guard let choice = chunk["choices"]?.arrayValue?.first else { continue }
            if let reason = choice["finish_reason"], reason != .null { finish = reason }
            guard let delta = choice["delta"] else { continue }
            if let text = delta["content"]?.stringValue {
                content += text
                sawContent = true
            }
            for call in delta["tool_calls"]?.arrayValue ?? [] {
                let index = call["index"]?.integerValue ?? Int64(calls.count)
                var entry = calls[index] ?? (nil, "", "")
                if entry.id == nil, let id = call["id"]?.stringValue, !id.isEmpty { entry.id = id }
                entry.name += call["function"]?["name"]?.stringValue ?? ""
                entry.arguments += call["function"]?["arguments"]?.stringValue ?? ""
                calls[index] = entry
            }
        }
        var message: [String: JSONValue] = ["role": "assistant", "content": sawContent ? .string(content) : .null]
        if !calls.isEmpty {
            message["tool_calls"] = .array(
                calls.keys.sorted().compactMap { index in
                    guard let call = calls[index] else { return nil }
                    var wire: [String: JSONValue] = [
                        "type": "function",
                        "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
                    ]
                    if let id = call.id { wire["id"] = .string(id) }
                    return .object(wire)
                })
        }
        var whole: [String: JSONValue] = [
            "choices": [["index": 0, "message": .object(message), "finish_reason": finish]]
        ]
        if let usage { whole["usage"] = usage }
        if let timings { whole["timings"] = timings }
        return .object(whole)
    }
}
