import AirlockCore

/// OTLP/JSON export of one run, following the OpenTelemetry GenAI semantic conventions.
///
/// The run is an `invoke_agent` span; each `model.request` with the next `model.response` a
/// `chat` span; every proposed call an `execute_tool` span from `tool.proposed` to its
/// `tool.result` — including calls refused by the policy, refused at approval, or that could not
/// run — with the decision, rule ids, reasons, threat tags and the approver as attributes. The
/// arguments and the result the model was told are content, exported only when asked
/// (`gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`). Ids are derived from the run id
/// and sequence numbers, so the same run always exports the same ids.
public enum TraceOTel {
    /// The OTLP/JSON document (`resourceSpans` → `scopeSpans` → `spans`).
    /// - Throws: ``TraceError`` `corrupt` when a stored event body is not JSON.
    /// - Parameter includeContent: also export call arguments and results (default `false`).
    public static func export(_ bundle: TraceRunBundle, includeContent: Bool = false) throws(TraceError) -> JSONValue {
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
        var openTools: [String: (seq: Int64, time: Int64, tool: String, attributes: [(String, JSONValue)])] = [:]
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
                var attributes: [(String, JSONValue)] = [
                    ("gen_ai.operation.name", "execute_tool"), ("gen_ai.tool.name", payload["tool"] ?? ""),
                    ("gen_ai.tool.call.id", .string(callID)), ("gen_ai.tool.type", "function"),
                    ("airlock.event.seq", .integer(event.seq)),
                ]
                if includeContent, let arguments = payload["arguments"] {
                    attributes.append(
                        ("gen_ai.tool.call.arguments", .string(arguments.stringValue ?? arguments.canonicalString)))
                }
                openTools[callID] = (event.seq, event.time, payload["tool"]?.stringValue ?? "", attributes)
            case .policyDecision:
                let callID = payload["call_id"]?.stringValue ?? ""
                guard var open = openTools[callID] else { continue }
                func strings(_ key: String) -> JSONValue {
                    .array((payload[key]?.arrayValue ?? []).filter { $0.stringValue != nil })
                }
                open.attributes.removeAll { $0.0.hasPrefix("airlock.policy.") }
                open.attributes += [
                    ("airlock.policy.decision", payload["decision"] ?? ""), ("airlock.policy.rules", strings("rules")),
                    ("airlock.policy.reasons", strings("reasons")), ("airlock.policy.tags", strings("tags")),
                ]
                openTools[callID] = open
            case .approvalGranted, .approvalDenied:
                let callID = payload["call_id"]?.stringValue ?? ""
                guard var open = openTools[callID] else { continue }
                open.attributes += [
                    ("airlock.approval.granted", .bool(event.type == TraceEventType.approvalGranted.rawValue)),
                    ("airlock.approval.approver", payload["approver"] ?? ""),
                ]
                openTools[callID] = open
            case .toolExecuted:
                let callID = payload["call_id"]?.stringValue ?? ""
                guard var open = openTools[callID] else { continue }
                if let exit = payload["record"]?["termination"]?["exitCode"]?.integerValue {
                    open.attributes.append(("airlock.tool.exit_code", .integer(exit)))
                }
                open.attributes.append(("airlock.tool.version", payload["tool"] ?? ""))
                openTools[callID] = open
            case .toolResult:
                let callID = payload["call_id"]?.stringValue ?? ""
                guard var open = openTools[callID] else { continue }
                let refused = payload["refused"]?.boolValue == true
                let exit = open.attributes.first { $0.0 == "airlock.tool.exit_code" }?.1.integerValue
                if includeContent, let content = payload["content"] {
                    open.attributes.append(("gen_ai.tool.call.result", content))
                }
                // Answered from the record of an identical call: nothing ran.
                if let earlier = payload["repeat_of"] { open.attributes.append(("airlock.tool.repeat_of", earlier)) }
                let decision = open.attributes.first { $0.0 == "airlock.policy.decision" }?.1.stringValue
                let failure: String? =
                    refused
                    ? (decision == "allow" ? "the call could not run" : "refused (\(decision ?? "deny"))")
                    : (exit.map { $0 == 0 ? nil : "exit code \($0)" } ?? nil)
                spans.append(
                    span(
                        traceID, spanID(runID, open.seq), parent: rootID, name: "execute_tool \(open.tool)",
                        kind: 1, start: open.time, end: event.time, attributes: open.attributes, error: failure))
                openTools[callID] = nil
            default:
                continue
            }
        }
        // Calls the run never answered (it was killed or is still running).
        for open in openTools.values.sorted(by: { $0.seq < $1.seq }) {
            spans.append(
                span(
                    traceID, spanID(runID, open.seq), parent: rootID, name: "execute_tool \(open.tool)", kind: 1,
                    start: open.time, end: end, attributes: open.attributes, error: "no result recorded"))
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
