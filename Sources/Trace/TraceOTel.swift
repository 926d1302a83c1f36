import AirlockCore

/// OTLP/JSON export of one run, following the OpenTelemetry GenAI semantic conventions.
///
/// The run is an `invoke_agent` span; each `model.request` with the next `model.response` a
/// `chat` span; each tool call (from `tool.proposed` to `tool.executed`, or to the policy
/// decision when it was refused) an `execute_tool` span. Ids are derived from the run id and
/// sequence numbers, so the same run always exports the same ids.
public enum TraceOTel {
    /// The OTLP/JSON document (`resourceSpans` → `scopeSpans` → `spans`).
    /// - Throws: ``TraceError`` `corrupt` when a stored event body is not JSON.
    public static func export(_ bundle: TraceRunBundle) throws(TraceError) -> JSONValue {
        let runID = bundle.summary.runID
        let traceID = String(SHA256.hex(Array("airlock.run:\(runID)".utf8)).prefix(32))
        let rootID = spanID(runID, 0)
        var payloads: [(event: TraceStoredEvent, payload: JSONValue)] = []
        for event in bundle.events { payloads.append((event, try event.payload())) }
        let start = bundle.events.first?.time ?? bundle.summary.startedAt
        let end = bundle.events.last?.time ?? start
        var spans: [JSONValue] = []
        let finished = payloads.last(where: { $0.event.type == TraceEventType.runFinished.rawValue })
        let runFailed = finished.map { $0.payload["status"]?.stringValue != "succeeded" } ?? true
        spans.append(
            span(
                traceID, rootID, parent: nil, name: "invoke_agent \(bundle.summary.workflow)", kind: 1,
                start: start, end: end,
                attributes: [
                    ("gen_ai.operation.name", "invoke_agent"), ("gen_ai.agent.name", .string(bundle.summary.workflow)),
                    ("gen_ai.conversation.id", .string(runID)), ("airlock.run.id", .string(runID)),
                    ("airlock.principal", .string(bundle.summary.principal)),
                    ("airlock.run.status", .string(finished?.payload["status"]?.stringValue ?? "incomplete")),
                ], error: runFailed ? (finished?.payload["status"]?.stringValue ?? "incomplete") : nil))

        var openChat: (seq: Int64, time: Int64, model: String)?
        var openTools: [String: (seq: Int64, time: Int64, tool: String)] = [:]
        for (event, payload) in payloads {
            switch TraceEventType(rawValue: event.type) {
            case .modelRequest:
                openChat = (event.seq, event.time, payload["model"]?.stringValue ?? "")
            case .modelResponse:
                let model = payload["model"]?.stringValue ?? ""
                let begin = openChat ?? (event.seq, event.time, model)
                var attributes: [(String, JSONValue)] = [
                    ("gen_ai.operation.name", "chat"), ("gen_ai.request.model", .string(begin.model)),
                    ("gen_ai.response.model", .string(model)), ("airlock.event.seq", .integer(event.seq)),
                ]
                if let reason = payload["finish_reason"]?.stringValue {
                    attributes.append(("gen_ai.response.finish_reasons", .array([.string(reason)])))
                }
                if let input = payload["usage"]?["input_tokens"] {
                    attributes.append(("gen_ai.usage.input_tokens", input))
                }
                if let output = payload["usage"]?["output_tokens"] {
                    attributes.append(("gen_ai.usage.output_tokens", output))
                }
                spans.append(
                    span(
                        traceID, spanID(runID, begin.seq), parent: rootID, name: "chat \(begin.model)", kind: 3,
                        start: begin.time, end: event.time, attributes: attributes, error: nil))
                openChat = nil
            case .toolProposed:
                let callID = payload["call_id"]?.stringValue ?? ""
                openTools[callID] = (event.seq, event.time, payload["tool"]?.stringValue ?? "")
            case .toolExecuted, .policyDecision:
                let callID = payload["call_id"]?.stringValue ?? ""
                guard let begin = openTools[callID] else { continue }
                let refused = event.type == TraceEventType.policyDecision.rawValue
                if refused && payload["decision"]?.stringValue != "deny" { continue }
                let exit = payload["record"]?["termination"]?["exitCode"]?.integerValue
                var attributes: [(String, JSONValue)] = [
                    ("gen_ai.operation.name", "execute_tool"), ("gen_ai.tool.name", .string(begin.tool)),
                    ("gen_ai.tool.call.id", .string(callID)), ("gen_ai.tool.type", "function"),
                    ("airlock.event.seq", .integer(event.seq)),
                ]
                if let exit { attributes.append(("airlock.tool.exit_code", .integer(exit))) }
                let failure: String? =
                    refused ? "denied by policy" : (exit.map { $0 == 0 ? nil : "exit code \($0)" } ?? "no exit code")
                spans.append(
                    span(
                        traceID, spanID(runID, begin.seq), parent: rootID, name: "execute_tool \(begin.tool)",
                        kind: 1, start: begin.time, end: event.time, attributes: attributes, error: failure))
                openTools[callID] = nil
            default:
                continue
            }
        }
        return [
            "resourceSpans": [
                [
                    "resource": ["attributes": .array([attribute("service.name", "airlock")])],
                    "scopeSpans": [
                        [
                            "scope": [
                                "name": "airlock.trace", "version": .string(String(TraceEventType.schemaVersion)),
                            ],
                            "spans": .array(spans),
                        ]
                    ],
                ]
            ]
        ]
    }

    private static func spanID(_ runID: String, _ seq: Int64) -> String {
        String(SHA256.hex(Array("airlock.span:\(runID):\(seq)".utf8)).prefix(16))
    }

    private static func span(
        _ traceID: String, _ spanID: String, parent: String?, name: String, kind: Int64, start: Int64, end: Int64,
        attributes: [(String, JSONValue)], error: String?
    ) -> JSONValue {
        var members: [String: JSONValue] = [
            "traceId": .string(traceID), "spanId": .string(spanID), "name": .string(name), "kind": .integer(kind),
            "startTimeUnixNano": .string(String(start)), "endTimeUnixNano": .string(String(max(start, end))),
            "attributes": .array(attributes.map { attribute($0.0, $0.1) }),
            "status": error.map { ["code": 2, "message": .string($0)] } ?? ["code": 1],
        ]
        if let parent { members["parentSpanId"] = .string(parent) }
        return .object(members)
    }

    private static func attribute(_ key: String, _ value: JSONValue) -> JSONValue {
        ["key": .string(key), "value": anyValue(value)]
    }

    // OTLP/JSON AnyValue: 64-bit integers are strings, arrays are arrayValue.values.
    private static func anyValue(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let s): ["stringValue": .string(s)]
        case .integer(let i): ["intValue": .string(String(i))]
        case .number(let d): ["doubleValue": .number(d)]
        case .bool(let b): ["boolValue": .bool(b)]
        case .array(let items): ["arrayValue": ["values": .array(items.map(anyValue))]]
        default: ["stringValue": .string(value.canonicalString)]
        }
    }
}
