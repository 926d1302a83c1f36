import AirlockCore

/// A run as a readable timeline: one line per event with what a reviewer needs from it.
public struct TraceTimeline: Sendable {
    /// One step of the timeline.
    public struct Entry: Sendable, Hashable {
        /// The event's sequence number.
        public var seq: Int64
        /// The event type's raw value.
        public var type: String
        /// Nanoseconds since the run's first event.
        public var offset: Int64
        /// One line for people: proposal, decision and reasons, confinement, result size.
        public var summary: String
        /// The stored payload (large strings as blob references).
        public var payload: JSONValue
        /// The event's hash, hex.
        public var hash: String
        /// What a reviewer judges, one line each, clipped unless the timeline is full: the
        /// messages sent, the model's text and calls, what the model was told, a tool's stderr.
        public var details: [String] = []
    }

    /// The entries in sequence order.
    public var entries: [Entry]
    /// The longest argument or answer text shown inline, in characters (default 160).
    public var maxInlineCharacters: Int

    /// Builds the timeline of a bundle.
    /// - Parameters:
    ///   - bundle: the run.
    ///   - maxInlineCharacters: inline text bound (default 160).
    /// - Throws: ``TraceError`` `corrupt` when a body is not JSON.
    public init(_ bundle: TraceRunBundle, maxInlineCharacters: Int = 160) throws(TraceError) {
        self.maxInlineCharacters = maxInlineCharacters
        let start = bundle.events.first?.time ?? 0
        var entries: [Entry] = []
        for event in bundle.events {
            let payload = try event.payload()
            entries.append(
                Entry(
                    seq: event.seq, type: event.type, offset: event.time - start,
                    summary: Self.summary(type: event.type, payload, limit: maxInlineCharacters), payload: payload,
                    hash: Hex.encode(event.hash),
                    details: Self.details(
                        type: event.type, Self.resolved(payload, blobs: bundle.blobs), limit: maxInlineCharacters)))
        }
        self.entries = entries
    }

    /// The text rendering: `#seq  +12.345ms  type  summary`, each detail indented below.
    public var text: String {
        entries.map { e in
            let micros = e.offset / 1000
            let fraction = String(micros % 1000 + 1000).dropFirst()
            let offset = "+\(micros / 1000).\(fraction)ms"
            let line =
                "#\(e.seq)".padding(toLength: 6, withPad: " ", startingAt: 0) + " "
                + offset.padding(toLength: 14, withPad: " ", startingAt: 0) + " "
                + e.type.padding(toLength: 19, withPad: " ", startingAt: 0) + " " + e.summary
            return ([line] + e.details.map { "         | " + $0 }).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// `value` with blob references replaced by their text (a missing blob stays a reference).
    static func resolved(_ value: JSONValue, blobs: [String: [UInt8]]) -> JSONValue {
        // A missing blob (a tampered store) keeps its reference: the banner already says so.
        TraceBlobs.resolving(value, blobs: blobs) { (_, reference) throws(Never) in reference }
    }

    /// The texts a reviewer reads, as stored (redacted), each clipped to `limit` characters with
    /// its full size named when cut.
    static func details(type: String, _ p: JSONValue, limit: Int) -> [String] {
        func clip(_ text: String) -> String {
            let flat = oneLine(text)
            return flat.count > limit ? String(flat.prefix(limit)) + "… (\(text.utf8.count) bytes; --full)" : flat
        }
        switch TraceEventType(rawValue: type) {
        case .modelRequest:
            return (p["messages"]?.arrayValue ?? []).map { message in
                let role = message["role"]?.stringValue ?? "?"
                let id = message["tool_call_id"]?.stringValue.map { " [\($0)]" } ?? ""
                return "\(role)\(id): " + clip(message["content"]?.stringValue ?? "")
            }
        case .modelResponse:
            var out: [String] = []
            if let content = p["content"]?.stringValue, !content.isEmpty { out.append("text: " + clip(content)) }
            for call in p["tool_calls"]?.arrayValue ?? [] {
                let id = call["id"]?.stringValue ?? "?"
                let name = call["function"]?["name"]?.stringValue ?? "?"
                out.append("call [\(id)] \(name) " + clip(call["function"]?["arguments"]?.stringValue ?? ""))
            }
            return out
        case .toolResult:
            return ["to the model: " + clip(p["content"]?.stringValue ?? "")]
        case .toolExecuted:
            // What the call wrote to its workspace: each change with its size and digest, and
            // the content that was kept.
            var out: [String] = []
            for change in p["workspace_changes"]?.arrayValue ?? [] {
                let kind = change["kind"]?.stringValue ?? "?"
                var line =
                    "workspace: \(change["change"]?.stringValue ?? "?") \(kind == "file" ? "" : kind + " ")\(change["path"]?.stringValue ?? "?")"
                if let bytes = change["bytes"]?.integerValue {
                    line += " (\(bytes) bytes" + (change["sha256"]?.stringValue.map { ", sha256 \($0)" } ?? "") + ")"
                }
                if let target = change["target"]?.stringValue { line += " -> \(target)" }
                if let omitted = change["omitted"]?.stringValue { line += " [\(omitted)]" }
                out.append(line)
                if let content = change["content"]?.stringValue { out.append("  content: " + clip(content)) }
            }
            if let cut = p["workspace_changes_cut"]?.stringValue { out.append("workspace changes cut: \(cut)") }
            out += network(p["record"]?["network"])
            let stderr = p["record"]?["stderr"]?["text"]?.stringValue ?? ""
            return out + (stderr.isEmpty ? [] : ["stderr: " + clip(stderr)])
        default:
            return []
        }
    }

    /// A corridor run's network activity (docs/network.md), one line per connection and per
    /// refused connect: `network: HOST:PORT → ADDRESS OUTCOME[, METHOD PATH → STATUS], sent N B,
    /// received M B in S s[ (reason)]`.
    static func network(_ activity: JSONValue?) -> [String] {
        guard let activity else { return [] }
        var out: [String] = []
        for c in activity["connections"]?.arrayValue ?? [] {
            func text(_ key: String) -> String { c[key]?.stringValue ?? "?" }
            func count(_ key: String) -> String { c[key]?.integerValue.map(String.init) ?? "?" }
            var line = "network: \(text("host")):\(count("port")) → \(text("address")) \(text("outcome"))"
            if let method = c["method"]?.stringValue {
                line += ", \(method) \(c["path"]?.stringValue ?? "?")"
                if let status = c["status"]?.integerValue { line += " → \(status)" }
            }
            line += ", sent \(count("bytesSent")) B, received \(count("bytesReceived")) B"
            if let seconds = c["durationSeconds"]?.doubleValue { line += " in \(seconds)s" }
            if let reason = c["reason"]?.stringValue { line += " (\(oneLine(reason)))" }
            out.append(line)
        }
        for refused in activity["refusedConnects"]?.arrayValue ?? [] {
            out.append("network refused: connect \(oneLine(refused.stringValue ?? refused.canonicalString))")
        }
        return out
    }

    /// The JSON rendering (`--json`).
    public var json: JSONValue {
        .array(
            entries.map { e in
                [
                    "seq": .integer(e.seq), "type": .string(e.type), "offset_ns": .integer(e.offset),
                    "summary": .string(e.summary), "payload": e.payload, "hash": .string(e.hash),
                    "details": .array(e.details.map(JSONValue.string)),
                ]
            })
    }

    /// `text` on one line: every line break shows as `⏎`, so that recorded text (an answer, a
    /// reason, a tool's stderr) can never start a line of its own and pass for another event.
    static func oneLine(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.replacingOccurrences(of: "\r\n", with: "\n").unicodeScalars.map { scalar in
                    switch scalar {
                    case "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}": "⏎"
                    default: scalar
                    }
                }))
    }

    private static func summary(type: String, _ p: JSONValue, limit: Int) -> String {
        oneLine(rawSummary(type: type, p, limit: limit))
    }

    private static func rawSummary(type: String, _ p: JSONValue, limit: Int) -> String {
        func s(_ key: String) -> String { p[key]?.stringValue ?? "?" }
        func inline(_ value: JSONValue?) -> String {
            let text = value.map { $0.stringValue ?? $0.canonicalString } ?? ""
            return text.count > limit ? String(text.prefix(limit)) + "…" : text
        }
        switch TraceEventType(rawValue: type) {
        case .runStarted:
            return "workflow \(s("workflow")) by \(s("principal"))"
                + (p["policy_digest"].map { ", policy \(inline($0))" } ?? "")
                + (p["model"].map { ", model \(inline($0["name"] ?? $0))" } ?? "")
        case .modelRequest:
            return "model \(s("model"))" + (p["messages"]?.arrayValue.map { ", \($0.count) messages" } ?? "")
        case .modelResponse:
            return "model \(s("model"))" + (p["finish_reason"].map { ", finish \(inline($0))" } ?? "")
                + (p["tool_calls"]?.arrayValue.map { ", \($0.count) tool calls" } ?? "")
        case .toolProposed:
            return "\(s("tool")) [\(s("call_id"))] \(inline(p["arguments"]))"
        case .policyDecision:
            let reasons = (p["reasons"]?.arrayValue ?? []).map { inline($0) }.joined(separator: "; ")
            let rules = (p["rules"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
            return "\(s("decision").uppercased()) [\(s("call_id"))]" + (rules.isEmpty ? "" : " rules \(rules)")
                + (reasons.isEmpty ? "" : ": \(reasons)")
        case .approvalRequested:
            return "[\(s("call_id"))] arguments sha256:\(s("arguments_sha256").prefix(16))"
                + (p["request_id"].map { ", request \(inline($0))" } ?? "")
                + (p["timeout_seconds"].map { ", waits \(inline($0)) s" } ?? "")
                + (p["separate_from_principal"]?.boolValue == true ? ", approver other than the principal" : "")
        case .approvalGranted, .approvalDenied:
            // Who, where from and with which scope, then why: what a reviewer asks of an answer.
            let how = [p["source"].map(inline), p["scope"].map { "scope " + inline($0) }].compactMap { $0 }
            return "by \(s("approver"))" + (how.isEmpty ? "" : " (\(how.joined(separator: ", ")))")
                + " [\(s("call_id"))] arguments sha256:\(s("arguments_sha256").prefix(16))"
                + (p["reason"].map { ": \(inline($0))" } ?? "")
        case .toolExecuted:
            let network = p["record"]?["network"]
            let connections = network?["connections"]?.arrayValue?.count ?? 0
            let refused = network?["refusedConnects"]?.arrayValue?.count ?? 0
            return "\(s("tool")) [\(s("call_id"))] " + confinement(p["record"] ?? .null)
                + (p["workspace_changes"]?.arrayValue.map { ", \($0.count) workspace change(s)" } ?? "")
                + (network == nil ? "" : ", \(connections) corridor connection(s), \(refused) refused connect(s)")
        case .toolResult:
            let content = p["content"]
            let bytes = content?["bytes"]?.integerValue ?? Int64(content?.stringValue?.utf8.count ?? 0)
            return "[\(s("call_id"))] \(bytes) bytes to the model"
                + (p["truncated"]?.boolValue == true ? " (truncated)" : "")
                + (p["repeat_of"].map { " (repeats \(inline($0)): answered from the record, not run again)" } ?? "")
        case .runFinished:
            return "status \(s("status"))" + (p["answer"].map { ": \(inline($0))" } ?? "")
        case .error:
            return "\(s("stage")): \(s("message"))"
        case nil:
            return inline(p)
        }
    }

    private static func confinement(_ record: JSONValue) -> String {
        var parts: [String] = []
        // A request to a long-lived confined process (an MCP server's tools/call).
        if let request = record["request"]?.stringValue { parts.append(request) }
        if let code = record["termination"]?["exitCode"]?.integerValue { parts.append("exit \(code)") }
        if let signal = record["termination"]?["signal"]?.integerValue { parts.append("signal \(signal)") }
        if record["timedOut"]?.boolValue == true { parts.append("timed out") }
        if let wall = record["wallSeconds"]?.doubleValue { parts.append("wall \(wall)s") }
        let c = record["confinement"]
        if let ns = c?["namespaces"]?.arrayValue {
            parts.append("ns " + ns.compactMap(\.stringValue).joined(separator: ","))
        }
        if let instructions = c?["seccompInstructions"]?.integerValue { parts.append("seccomp \(instructions) insns") }
        if let degraded = c?["degradedLayers"]?.arrayValue {
            parts.append(
                degraded.isEmpty
                    ? "no degraded layers"
                    : "DEGRADED " + degraded.map { $0.stringValue ?? $0.canonicalString }.joined(separator: ","))
        }
        if let denied = record["deniedSyscalls"]?.arrayValue, !denied.isEmpty {
            parts.append("denied syscalls " + denied.compactMap { $0["name"]?.stringValue }.joined(separator: ","))
        }
        if let out = record["stdout"]?["totalBytes"]?.integerValue { parts.append("stdout \(out) B") }
        return parts.joined(separator: ", ")
    }
}
