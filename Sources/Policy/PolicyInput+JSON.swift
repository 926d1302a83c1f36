import AirlockCore

extension PolicyInput {
    /// Reads a decision input from its JSON form, rejecting unknown fields and wrong types.
    ///
    /// - Parameters:
    ///   - json: the document (`{tool, arguments, facts?, workflow_allowed_tools?, principal?, context?}`).
    ///   - lines: source lines by JSON pointer, when the document came from YAML.
    /// - Throws: ``PolicyError`` (`invalid-input`) naming every bad field's path.
    public init(json: JSONValue, lines: [String: Int] = [:]) throws(PolicyError) {
        var reader = DocumentReader(lines: lines)
        let input = Self.read(json, at: "", reader: &reader)
        guard let input, reader.diagnostics.isEmpty else {
            throw PolicyError(.invalidInput, problems: reader.diagnostics)
        }
        self = input
    }

    /// Parses a model's raw argument text the way the policy expects it: strictly, with duplicate
    /// keys rejected. A failure is returned as a schema error for ``ToolFacts/schemaErrors``, so the
    /// call is denied by `builtin.schema-invalid` rather than guessed at.
    /// - Parameter text: the arguments string the model produced.
    /// - Returns: the arguments (`null` on failure) and the errors (empty on success).
    public static func parseArguments(_ text: String) -> (arguments: JSONValue, errors: [String]) {
        do {
            return (try JSONParser().parse(text), [])
        } catch {
            return (.null, ["arguments are not valid JSON: \(error)"])
        }
    }

    /// The JSON form, as read by ``init(json:lines:)``.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "tool": .string(toolName), "arguments": arguments,
            "principal": [
                "user": .string(principal.user), "role": .string(principal.role),
                "workflow": .string(principal.workflow), "agent": .string(principal.agent),
            ],
            "context": context.json,
        ]
        if let tool { members["facts"] = tool.json }
        if let workflowAllowedTools {
            members["workflow_allowed_tools"] = .array(workflowAllowedTools.map { .string($0) })
        }
        return .object(members)
    }

    static func read(_ value: JSONValue, at pointer: String, reader: inout DocumentReader) -> PolicyInput? {
        let allowed: Set = ["tool", "arguments", "facts", "workflow_allowed_tools", "principal", "context"]
        guard let f = reader.object(value, at: pointer, allowed: allowed) else { return nil }
        let before = reader.count
        var toolName = ""
        if let (v, p) = f("tool") {
            toolName = reader.string(v, at: p) ?? ""
        } else {
            reader.fail(f.pointer("tool"), "missing: the tool name the model proposed")
        }
        let arguments = f("arguments")?.value ?? .object([:])
        var facts: ToolFacts?
        if let (v, p) = f("facts"), v != .null { facts = readFacts(v, at: p, reader: &reader) }
        var allowedTools: [String]?
        if let (v, p) = f("workflow_allowed_tools"), v != .null {
            allowedTools = reader.strings(v, at: p, nonEmpty: false)
        }
        var principal = Principal()
        if let (v, p) = f("principal"),
            let pf = reader.object(v, at: p, allowed: ["user", "role", "workflow", "agent"])
        {
            func text(_ key: String) -> String {
                guard let (v, p) = pf(key) else { return "" }
                return reader.string(v, at: p, nonEmpty: false) ?? ""
            }
            principal = Principal(
                user: text("user"), role: text("role"), workflow: text("workflow"), agent: text("agent"))
        }
        var context = RunContext()
        if let (v, p) = f("context") { context = readContext(v, at: p, reader: &reader) ?? context }
        guard reader.count == before else { return nil }
        return PolicyInput(
            toolName: toolName, arguments: arguments, tool: facts, workflowAllowedTools: allowedTools,
            principal: principal, context: context)
    }

    private static func readFacts(_ value: JSONValue, at pointer: String, reader: inout DocumentReader) -> ToolFacts? {
        let allowed: Set = [
            "name", "version", "risk", "reads_labels", "output_labels", "writes_outside_workspace",
            "pinned_digest", "current_digest", "schema_errors", "network",
        ]
        guard let f = reader.object(value, at: pointer, allowed: allowed) else { return nil }
        let before = reader.count
        func required(_ key: String) -> String {
            guard let (v, p) = f(key) else {
                reader.fail(f.pointer(key), "missing: tool facts need '\(key)' (from the tool's manifest)")
                return ""
            }
            return reader.string(v, at: p) ?? ""
        }
        func list(_ key: String) -> [String] {
            guard let (v, p) = f(key) else { return [] }
            return reader.strings(v, at: p, nonEmpty: false) ?? []
        }
        let name = required("name")
        let version = required("version")
        var risk: RiskLevel?
        if let (v, p) = f("risk") {
            risk = reader.enumeration(v, at: p)
        } else {
            reader.fail(f.pointer("risk"), "missing: tool facts need 'risk' (from the tool's manifest)")
        }
        let pinned = required("pinned_digest")
        let current = required("current_digest")
        var writesOutside = false
        if let (v, p) = f("writes_outside_workspace") { writesOutside = reader.bool(v, at: p) ?? false }
        guard reader.count == before, let risk else { return nil }
        return ToolFacts(
            name: name, version: version, risk: risk, readsLabels: list("reads_labels"),
            outputLabels: list("output_labels"), writesOutsideWorkspace: writesOutside, pinnedDigest: pinned,
            currentDigest: current, schemaErrors: list("schema_errors"), network: list("network"))
    }

    private static func readContext(_ value: JSONValue, at pointer: String, reader: inout DocumentReader) -> RunContext?
    {
        let allowed: Set = [
            "step", "calls_by_tool", "total_calls", "elapsed_seconds", "output_bytes", "labels", "approvals",
            "recent_calls", "now",
        ]
        guard let f = reader.object(value, at: pointer, allowed: allowed) else { return nil }
        var context = RunContext()
        if let (v, p) = f("step") { context.step = reader.integer(v, at: p) ?? 0 }
        if let (v, p) = f("total_calls") { context.totalCalls = reader.integer(v, at: p) ?? 0 }
        if let (v, p) = f("output_bytes") { context.outputBytes = reader.integer(v, at: p) ?? 0 }
        if let (v, p) = f("elapsed_seconds") { context.elapsedSeconds = reader.number(v, at: p) ?? 0 }
        if let (v, p) = f("now") { context.now = reader.number(v, at: p) ?? 0 }
        if let (v, p) = f("labels") { context.labels = reader.strings(v, at: p, nonEmpty: false) ?? [] }
        if let (v, p) = f("calls_by_tool"), let members = reader.object(v, at: p, allowed: nil)?.members {
            for (tool, count) in members {
                context.callsByTool[tool] = reader.integer(count, at: JSONPointer.appending(p, tool)) ?? 0
            }
        }
        if let (v, p) = f("approvals"), let items = reader.array(v, at: p) {
            for (index, item) in items.enumerated() {
                let ip = JSONPointer.appending(p, index)
                guard let af = reader.object(item, at: ip, allowed: ["tool", "arguments_digest", "by", "at"]) else {
                    continue
                }
                let tool = af("tool").flatMap { reader.string($0.value, at: $0.pointer) }
                let digest = af("arguments_digest").flatMap { reader.string($0.value, at: $0.pointer) }
                let by = af("by").flatMap { reader.string($0.value, at: $0.pointer) } ?? ""
                let at = af("at").flatMap { reader.number($0.value, at: $0.pointer) } ?? 0
                guard let tool, let digest else {
                    reader.fail(ip, "an approval needs 'tool' and 'arguments_digest'")
                    continue
                }
                context.approvals.append(Approval(tool: tool, argumentsDigest: digest, by: by, at: at))
            }
        }
        if let (v, p) = f("recent_calls"), let items = reader.array(v, at: p) {
            for (index, item) in items.enumerated() {
                let ip = JSONPointer.appending(p, index)
                guard let cf = reader.object(item, at: ip, allowed: ["tool", "at"]) else { continue }
                guard let tool = cf("tool").flatMap({ reader.string($0.value, at: $0.pointer) }),
                    let at = cf("at").flatMap({ reader.number($0.value, at: $0.pointer) })
                else {
                    reader.fail(ip, "a recent call needs 'tool' and 'at'")
                    continue
                }
                context.recentCalls.append(CallRecord(tool: tool, at: at))
            }
        }
        return context
    }
}

extension ToolFacts {
    /// The JSON form used in call files (`facts`).
    public var json: JSONValue {
        [
            "name": .string(name), "version": .string(version), "risk": .string(risk.rawValue),
            "reads_labels": .array(readsLabels.map { .string($0) }),
            "output_labels": .array(outputLabels.map { .string($0) }),
            "writes_outside_workspace": .bool(writesOutsideWorkspace), "pinned_digest": .string(pinnedDigest),
            "current_digest": .string(currentDigest), "schema_errors": .array(schemaErrors.map { .string($0) }),
            "network": .array(network.map { .string($0) }),
        ]
    }
}

extension PolicyInput.RunContext {
    /// The JSON form used in context files (`context`).
    public var json: JSONValue {
        [
            "step": .integer(step), "calls_by_tool": .object(callsByTool.mapValues { .integer($0) }),
            "total_calls": .integer(totalCalls), "elapsed_seconds": .number(elapsedSeconds),
            "output_bytes": .integer(outputBytes), "labels": .array(labels.map { .string($0) }),
            "approvals": .array(
                approvals.map {
                    [
                        "tool": .string($0.tool), "arguments_digest": .string($0.argumentsDigest),
                        "by": .string($0.by), "at": .number($0.at),
                    ]
                }),
            "recent_calls": .array(recentCalls.map { ["tool": .string($0.tool), "at": .number($0.at)] }),
            "now": .number(now),
        ]
    }
}
