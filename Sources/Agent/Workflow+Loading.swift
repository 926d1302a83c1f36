import AirlockCore
import Foundation

extension Workflow {
    /// The document version this reader understands (`airlock_workflow: 1`).
    public static let documentVersion: Int64 = 1

    /// Loads a workflow file.
    /// - Parameter url: the YAML file.
    /// - Throws: ``AgentError`` `io`, or `invalid-workflow` listing every problem with its field and line.
    public static func load(_ url: URL) throws(AgentError) -> Workflow {
        let reading = try read(url)
        var workflow = try reading.accepted()
        workflow.path = url.path
        return workflow
    }

    /// Reads a workflow file as far as it can be read, with every problem found in it (what
    /// `airlock workflow lint` and `airlock run --dry-run` report; ``load(_:)`` refuses any).
    /// - Throws: ``AgentError`` `io` when the file cannot be read.
    public static func read(_ url: URL) throws(AgentError) -> WorkflowReading {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw AgentError(.io, "cannot read the workflow \(url.path)", cause: error)
        }
        var reading = read(
            yaml: String(decoding: data, as: UTF8.self), label: url.path, base: url.deletingLastPathComponent(),
            sha256: SHA256.hex(Array(data)))
        reading.workflow.path = url.path
        return reading
    }

    /// Parses a workflow document.
    /// - Parameters:
    ///   - yaml: the document.
    ///   - label: the file name used in messages.
    ///   - base: the directory `policy:` is relative to.
    ///   - sha256: the file's digest (recorded in the trace).
    /// - Throws: ``AgentError`` `invalid-workflow` listing every problem with its field and line.
    public init(yaml: String, label: String, base: URL, sha256: String) throws(AgentError) {
        self = try Self.read(yaml: yaml, label: label, base: base, sha256: sha256).accepted()
    }

    /// Reads a workflow document as far as it can be read: the workflow (fields that are wrong
    /// keep their defaults) and every problem, each with its JSON pointer and line.
    /// - Parameters:
    ///   - yaml: the document.
    ///   - label: the file name used in messages.
    ///   - base: the directory `policy:` is relative to.
    ///   - sha256: the file's digest (recorded in the trace).
    public static func read(yaml: String, label: String, base: URL, sha256: String) -> WorkflowReading {
        let empty = Workflow(
            name: "", description: "", role: "analyst", systemPrompt: "", task: "", parameters: [], tools: [],
            policyURL: base, model: ModelSettings(), budgets: Budgets(), approval: .ask, preApproved: [],
            sha256: sha256)
        let document: YAMLDocument
        do {
            document = try YAMLDocument(text: yaml)
        } catch {
            return WorkflowReading(
                workflow: empty, label: label, document: nil, problems: [], syntaxError: "\(error)")
        }
        var reader = DocumentReader(document)
        func checkKeys(_ value: JSONValue?, _ pointer: String, _ allowed: [String]) {
            if let value { _ = reader.object(value, at: pointer, allowed: allowed) }
        }
        func string(_ pointer: String, required: Bool = true) -> String? {
            reader.value(at: pointer, required: required).flatMap { reader.string($0, at: pointer) }
        }
        func number(_ pointer: String, minimum: Double, maximum: Double) -> Double? {
            reader.value(at: pointer).flatMap { reader.number($0, at: pointer, in: minimum...maximum) }
        }
        func integer(_ pointer: String, minimum: Int64, maximum: Int64) -> Int? {
            reader.value(at: pointer).flatMap { reader.integer($0, at: pointer, in: minimum...maximum) }.map(Int.init)
        }
        func names(_ pointer: String) -> [String] {
            reader.value(at: pointer).flatMap { reader.strings($0, at: pointer, nonEmpty: false) } ?? []
        }

        let root = document.value
        guard root.objectValue != nil else {
            return WorkflowReading(
                workflow: empty, label: label, document: document,
                problems: [WorkflowProblem(pointer: "", line: nil, message: "must be a mapping")])
        }
        checkKeys(
            root, "",
            [
                "airlock_workflow", "name", "description", "role", "system_prompt", "task", "parameters", "tools",
                "policy", "model", "budgets", "approval", "plan",
            ])
        if root["airlock_workflow"]?.integerValue != Self.documentVersion {
            reader.fail("/airlock_workflow", "must be \(Self.documentVersion)")
        }
        let name = string("/name") ?? ""
        if !name.isEmpty,
            !name.unicodeScalars.allSatisfy({
                CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)
            })
        {
            reader.fail("/name", "must be letters, digits, '-', '_' or '.'")
        }
        let description = string("/description") ?? ""
        let role = string("/role", required: false) ?? "analyst"
        let systemPrompt = string("/system_prompt") ?? ""
        let task = string("/task") ?? ""

        var parameters: [Parameter] = []
        if let list = root["parameters"] {
            if let object = list.objectValue {
                for key in object.keys.sorted() {
                    let at = JSONPointer.appending("/parameters", key)
                    let entry = object[key] ?? .null
                    checkKeys(entry, at, ["type", "required", "default", "description"])
                    guard entry.objectValue != nil else {
                        reader.fail(at, "must be a mapping with type, required, default, description")
                        continue
                    }
                    let kindText = entry["type"]?.stringValue ?? "string"
                    guard let kind = Parameter.Kind(rawValue: kindText) else {
                        reader.fail(
                            at + "/type",
                            "must be one of \(Parameter.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                        continue
                    }
                    let defaultValue = entry["default"]
                    if let defaultValue, Parameter.matches(defaultValue, kind) == false {
                        reader.fail(at + "/default", "must be of type \(kind.rawValue)")
                    }
                    if entry["required"] != nil, entry["required"]?.boolValue == nil {
                        reader.fail(at + "/required", "must be true or false")
                    }
                    parameters.append(
                        Parameter(
                            name: key, kind: kind,
                            required: (entry["required"]?.boolValue ?? true) && defaultValue == nil,
                            defaultValue: defaultValue, description: entry["description"]?.stringValue ?? ""))
                }
            } else {
                reader.fail(
                    "/parameters", "must be a mapping of parameter name to {type, required, default, description}")
            }
        }
        for placeholder in Self.placeholders(in: task) where !parameters.contains(where: { $0.name == placeholder }) {
            reader.fail("/task", "uses {{\(placeholder)}}, which is not declared under parameters")
        }

        let tools = names("/tools")
        if tools.isEmpty { reader.fail("/tools", "must list at least one registered tool") }
        let policyPath = string("/policy") ?? ""

        checkKeys(
            root["model"], "/model",
            [
                "temperature", "max_tokens", "seed", "on_truncation", "tool_result_bytes", "answer_after_repeat",
            ])
        var model = ModelSettings()
        if let value = number("/model/temperature", minimum: 0, maximum: 2) { model.temperature = value }
        if let value = integer("/model/max_tokens", minimum: 1, maximum: 1 << 20) { model.maxTokens = value }
        model.seed = integer("/model/seed", minimum: Int64(Int32.min), maximum: Int64(Int32.max))
        model.toolResultBytes = integer("/model/tool_result_bytes", minimum: 256, maximum: 1 << 20)
        if let value = document.value.value(at: "/model/answer_after_repeat") {
            if let flag = value.boolValue {
                model.answerAfterRepeat = flag
            } else {
                reader.fail("/model/answer_after_repeat", "must be true or false")
            }
        }
        if let value = document.value.value(at: "/model/on_truncation") {
            if let handling = value.stringValue.flatMap(TruncationHandling.init(rawValue:)) {
                model.onTruncation = handling
            } else {
                reader.fail(
                    "/model/on_truncation",
                    "must be one of \(TruncationHandling.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        checkKeys(root["budgets"], "/budgets", ["max_steps", "max_tool_calls", "wall_seconds", "max_repeats"])
        var budgets = Budgets()
        if let value = integer("/budgets/max_steps", minimum: 1, maximum: 1000) { budgets.maxSteps = value }
        if let value = integer("/budgets/max_tool_calls", minimum: 0, maximum: 10000) { budgets.maxToolCalls = value }
        if let value = number("/budgets/wall_seconds", minimum: 1, maximum: 86400) { budgets.wallSeconds = value }
        if let value = integer("/budgets/max_repeats", minimum: 0, maximum: 1000) { budgets.maxRepeats = value }

        checkKeys(root["approval"], "/approval", ["mode", "pre_approved", "timeout"])
        var approval = ApprovalMode.ask
        if let text = root["approval"]?["mode"] {
            if let mode = text.stringValue.flatMap(ApprovalMode.init(rawValue:)) {
                approval = mode
            } else {
                reader.fail("/approval/mode", "must be ask or deny")
            }
        }
        let approvalTimeout =
            number("/approval/timeout", minimum: 1, maximum: Self.maxApprovalTimeoutSeconds)
            ?? Self.defaultApprovalTimeoutSeconds
        let preApproved = names("/approval/pre_approved")
        for (index, tool) in preApproved.enumerated() where !tools.contains(tool) {
            reader.fail("/approval/pre_approved/\(index)", "\(tool) is not one of the workflow's tools")
        }

        var workflow = Workflow(
            name: name, description: description, role: role, systemPrompt: systemPrompt, task: task,
            parameters: parameters, tools: tools,
            policyURL: policyPath.hasPrefix("/")
                ? URL(fileURLWithPath: policyPath) : base.appendingPathComponent(policyPath).standardizedFileURL,
            model: model, budgets: budgets, approval: approval, preApproved: preApproved, sha256: sha256)
        workflow.approvalTimeoutSeconds = approvalTimeout
        workflow.plan = plan(in: root, tools: tools, parameters: parameters, reader: &reader)
        workflow.text = yaml
        let problems = reader.all.map { WorkflowProblem(pointer: $0.pointer, line: $0.line, message: $0.message) }
        return WorkflowReading(workflow: workflow, label: label, document: document, problems: problems)
    }

    /// The `{{name}}` placeholders of a template, in order.
    static func placeholders(in template: String) -> [String] {
        var result: [String] = []
        var rest = template[...]
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            result.append(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return result
    }

    /// Checks `--param K=V` values against the declared parameters: every problem (an unknown
    /// name, a value of the wrong type, a required parameter not given), each at the pointer of
    /// the declaration it concerns (`/parameters` for an unknown name), and the typed values.
    /// - Parameter values: name → text as given on the command line.
    public func checkParameters(_ values: [String: String]) -> (
        parameters: [String: JSONValue], problems: [WorkflowProblem]
    ) {
        var typed: [String: JSONValue] = [:]
        var problems: [WorkflowProblem] = []
        for key in values.keys.sorted() where !parameters.contains(where: { $0.name == key }) {
            let known = parameters.map(\.name).joined(separator: ", ")
            problems.append(
                WorkflowProblem(
                    pointer: "/parameters", line: nil,
                    message:
                        "--param \(key): workflow \(name) has no such parameter (it has: \(known.isEmpty ? "none" : known))"
                ))
        }
        for parameter in parameters {
            let pointer = JSONPointer.appending("/parameters", parameter.name)
            if let text = values[parameter.name] {
                guard let value = parameter.parse(text) else {
                    problems.append(
                        WorkflowProblem(
                            pointer: pointer, line: nil,
                            message: "--param \(parameter.name)=\(text): must be of type \(parameter.kind.rawValue)"))
                    continue
                }
                typed[parameter.name] = value
            } else if let value = parameter.defaultValue {
                typed[parameter.name] = value
            } else if parameter.required {
                problems.append(
                    WorkflowProblem(
                        pointer: pointer, line: nil,
                        message:
                            "workflow \(name) needs --param \(parameter.name)=… (\(parameter.kind.rawValue)\(parameter.description.isEmpty ? "" : ": " + parameter.description))"
                    ))
            }
        }
        return (typed, problems)
    }

    /// The `plan:` steps: each `{tool, arguments}`, the tool one of the workflow's, placeholders
    /// declared parameters.
    private static func plan(
        in root: JSONValue, tools: [String], parameters: [Parameter], reader: inout DocumentReader
    ) -> [PlanStep] {
        guard let value = root["plan"] else { return [] }
        guard let list = value.arrayValue, list.count <= maxPlanSteps else {
            reader.fail("/plan", "must be a list of at most \(maxPlanSteps) steps {tool, arguments}")
            return []
        }
        var steps: [PlanStep] = []
        for (index, entry) in list.enumerated() {
            let at = JSONPointer.appending("/plan", index)
            for key in (entry.objectValue ?? [:]).keys.sorted() where !["tool", "arguments"].contains(key) {
                reader.fail(
                    JSONPointer.appending(at, key), DocumentProblems.unknownField(key, allowed: ["tool", "arguments"]))
            }
            guard let tool = entry["tool"]?.stringValue, tools.contains(tool) else {
                reader.fail(at + "/tool", "must name one of the workflow's tools (\(tools.joined(separator: ", ")))")
                continue
            }
            let arguments = entry["arguments"] ?? .object([:])
            guard arguments.objectValue != nil else {
                reader.fail(at + "/arguments", "must be a mapping of the tool's arguments")
                continue
            }
            for placeholder in placeholders(inValues: arguments)
            where !parameters.contains(where: { $0.name == placeholder }) {
                reader.fail(at + "/arguments", "uses {{\(placeholder)}}, which is not declared under parameters")
            }
            steps.append(PlanStep(tool: tool, arguments: arguments))
        }
        return steps
    }

    /// The placeholders in every string of `value`.
    static func placeholders(inValues value: JSONValue) -> [String] {
        switch value {
        case .string(let text): placeholders(in: text)
        case .array(let items): items.flatMap(placeholders(inValues:))
        case .object(let members): members.keys.sorted().flatMap { placeholders(inValues: members[$0] ?? .null) }
        default: []
        }
    }

    /// The plan's calls with `{{name}}` in their string arguments replaced by the typed values.
    public func renderPlan(_ typed: [String: JSONValue]) -> [PlanStep] {
        func rendered(_ value: JSONValue) -> JSONValue {
            switch value {
            case .string(let text): .string(render(text, typed))
            case .array(let items): .array(items.map(rendered))
            case .object(let members): .object(members.mapValues(rendered))
            default: value
            }
        }
        return plan.map { PlanStep(tool: $0.tool, arguments: rendered($0.arguments)) }
    }

    /// Checks `--param K=V` values against the declared parameters and renders the task.
    /// - Parameter values: name → text as given on the command line.
    /// - Returns: the task text and the typed values (recorded in `run.started`).
    /// - Throws: ``AgentError`` `invalid-parameter` naming the parameter.
    public func renderTask(_ values: [String: String]) throws(AgentError) -> (
        task: String, parameters: [String: JSONValue]
    ) {
        let (typed, problems) = checkParameters(values)
        if let first = problems.first { throw AgentError(.invalidParameter, first.message) }
        return (render(typed), typed)
    }

    /// The task with each `{{name}}` replaced by its typed value (text as it is, others as JSON).
    func render(_ typed: [String: JSONValue]) -> String { render(task, typed) }

    /// `template` with each `{{name}}` replaced by its typed value (text as it is, others as JSON).
    func render(_ template: String, _ typed: [String: JSONValue]) -> String {
        var task = ""
        var rest = template[...]
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            task += rest[..<open.lowerBound]
            let key = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            switch typed[key] {
            case .string(let text): task += text
            case .some(let value): task += value.canonicalString
            case nil: break
            }
            rest = rest[close.upperBound...]
        }
        task += rest
        return task
    }
}

extension Workflow.Parameter {
    /// Whether `value` has this kind (`nil` never happens; `Bool` for a clear call site).
    static func matches(_ value: JSONValue, _ kind: Kind) -> Bool {
        switch (kind, value) {
        case (.string, .string), (.integer, .integer), (.number, .integer), (.number, .number), (.boolean, .bool): true
        default: false
        }
    }

    /// Parses a command-line value as this parameter's kind.
    func parse(_ text: String) -> JSONValue? {
        switch kind {
        case .string: .string(text)
        case .integer: Int64(text).map(JSONValue.integer)
        case .number: Double(text).flatMap { $0.isFinite ? JSONValue.number($0) : nil }
        case .boolean: text == "true" ? .bool(true) : text == "false" ? .bool(false) : nil
        }
    }
}
