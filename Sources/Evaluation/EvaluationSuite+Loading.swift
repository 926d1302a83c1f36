import Agent
import AirlockCore
import Foundation
import Runs

extension EvaluationSuite {
    /// The largest suite file read.
    public static let maxFileBytes = 1 << 20

    /// Reads and checks a suite file, every problem reported at once with its field and line.
    /// - Throws: ``RunsError`` `not-found` (the suite, or a workflow or oracle it names),
    ///   `invalid-input` (every problem, one per line).
    public static func load(_ url: URL) throws(RunsError) -> EvaluationSuite {
        let text: String
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw RunsError(.notFound, "no evaluation suite at \(url.path)")
        }
        do {
            let data = try Data(contentsOf: url)
            guard data.count <= maxFileBytes else {
                throw RunsError(.invalidInput, "\(url.path): larger than \(maxFileBytes) bytes")
            }
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw RunsError(.invalidInput, "\(url.path): not UTF-8 text")
            }
            text = decoded
        } catch let error as RunsError {
            throw error
        } catch {
            throw RunsError(
                .notFound, "the evaluation suite \(url.path) cannot be read (a directory, or not readable)")
        }
        return try parse(text, at: url)
    }

    /// Parses a suite's text read from `url` (relative paths are taken from its directory).
    /// - Throws: ``RunsError`` as ``load(_:)``.
    public static func parse(_ text: String, at url: URL) throws(RunsError) -> EvaluationSuite {
        let document = try DocumentReader.parse(text) {
            RunsError(.invalidInput, "\(url.path): not valid YAML", problems: $0)
        }
        var reader = SuiteReader(document: document, url: url)
        let suite = reader.suite()
        if !reader.problems.isEmpty {
            throw RunsError(
                .invalidInput,
                "\(url.path): \(reader.problems.count) problem(s):\n"
                    + reader.problems.map { "  " + $0 }.joined(
                        separator: "\n"))
        }
        if let missing = reader.missing.first {
            throw RunsError(.notFound, "\(url.path): \(missing)")
        }
        return suite
    }
}

/// Reads a suite document field by field, collecting every problem with its pointer and line.
struct SuiteReader {
    let url: URL
    /// The one document reader (AirlockCore): its problems, worded and with lines.
    var r: DocumentReader
    /// Files the suite names that do not exist, with the field that names them.
    var missing: [String] = []

    static let suiteKeys = ["airlock_eval", "name", "description", "tasks"]
    static let taskKeys = ["id", "description", "workflow", "parameters", "approve", "oracle", "checks"]
    static let checkKeys = [
        "status", "answer_contains", "answer_excludes", "notes_contain", "called", "not_called", "no_refusals",
        "max_steps",
    ]

    init(document: YAMLDocument, url: URL) {
        self.url = url
        r = DocumentReader(document)
    }

    /// Every problem as `POINTER (line N): MESSAGE`.
    var problems: [String] { r.problems.lines }

    mutating func suite() -> EvaluationSuite {
        let root = r.document?.value ?? .null
        guard r.object(root, at: "", allowed: Self.suiteKeys, required: ["airlock_eval", "name", "tasks"]) != nil
        else {
            return EvaluationSuite(name: "", path: url, tasks: [])
        }
        if let version = root["airlock_eval"], version.integerValue != EvaluationSuite.version {
            r.fail("/airlock_eval", "must be \(EvaluationSuite.version) (the suite format this Airlock reads)")
        }
        let name = root["name"]?.stringValue ?? ""
        if root["name"] != nil, name.wholeMatch(of: #/[A-Za-z0-9][A-Za-z0-9._-]{0,127}/#) == nil {
            r.fail("/name", "must be a name of letters, digits, '-', '_' or '.' (at most 128)")
        }
        let description = text(root["description"], at: "/description")
        var tasks: [EvaluationTask] = []
        guard let list = root["tasks"].flatMap({ r.array($0, at: "/tasks") }) else {
            return EvaluationSuite(name: name, description: description, path: url, tasks: [])
        }
        if list.isEmpty { r.fail("/tasks", "must be a non-empty list of tasks") }
        if list.count > EvaluationSuite.maxTasks {
            r.fail("/tasks", "holds \(list.count) tasks, more than \(EvaluationSuite.maxTasks)")
        }
        var seen: Set<String> = []
        for (index, entry) in list.enumerated() {
            let at = JSONPointer.appending("/tasks", index)
            guard let task = task(entry, at: at) else { continue }
            if !seen.insert(task.id).inserted { r.fail(at + "/id", "\(task.id) is used by an earlier task") }
            tasks.append(task)
        }
        return EvaluationSuite(name: name, description: description, path: url, tasks: tasks)
    }

    mutating func text(_ value: JSONValue?, at pointer: String) -> String? {
        value.flatMap { r.string($0, at: pointer, nonEmpty: false) }
    }

    /// A file named relative to the suite's directory, noted as missing when it is not there.
    mutating func file(_ value: JSONValue?, at pointer: String) -> URL? {
        guard let path = text(value, at: pointer) else { return nil }
        guard !path.isEmpty else {
            r.fail(pointer, "must be a file path relative to the suite")
            return nil
        }
        let base = url.deletingLastPathComponent()
        let file = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
        let resolved = file.standardizedFileURL
        if !FileManager.default.fileExists(atPath: resolved.path) {
            missing.append("\(pointer): no file at \(resolved.path)")
        }
        return resolved
    }

    mutating func names(_ value: JSONValue?, at pointer: String) -> [String] {
        value.flatMap { r.strings($0, at: pointer, nonEmpty: false) } ?? []
    }

    /// A list of facts, each a text or a list of alternative texts.
    mutating func facts(_ value: JSONValue?, at pointer: String) -> [[String]] {
        guard let list = value.flatMap({ r.array($0, at: pointer) }) else { return [] }
        var out: [[String]] = []
        for (index, item) in list.enumerated() {
            let at = JSONPointer.appending(pointer, index)
            if let text = item.stringValue, !text.isEmpty {
                out.append([text])
            } else if let alternatives = item.arrayValue, !alternatives.isEmpty,
                alternatives.allSatisfy({ !($0.stringValue ?? "").isEmpty })
            {
                out.append(alternatives.compactMap(\.stringValue))
            } else {
                r.fail(at, "must be a non-empty text or a non-empty list of non-empty texts")
            }
        }
        return out
    }

    mutating func task(_ entry: JSONValue, at pointer: String) -> EvaluationTask? {
        guard r.object(entry, at: pointer, allowed: Self.taskKeys, required: ["id", "workflow", "checks"]) != nil
        else { return nil }
        let id = entry["id"]?.stringValue ?? ""
        if entry["id"] != nil, id.wholeMatch(of: #/[A-Za-z0-9][A-Za-z0-9._-]{0,127}/#) == nil {
            r.fail(pointer + "/id", "must be a name of letters, digits, '-', '_' or '.' (at most 128)")
        }
        let workflow = file(entry["workflow"], at: pointer + "/workflow")
        let oracle = file(entry["oracle"], at: pointer + "/oracle")
        var parameters: [String: String] = [:]
        if let given = entry["parameters"], let values = r.object(given, at: pointer + "/parameters", allowed: nil) {
            for (key, value) in values.members {
                switch value {
                case .string(let text): parameters[key] = text
                case .integer(let number): parameters[key] = String(number)
                case .number(let number): parameters[key] = String(number)
                case .bool(let flag): parameters[key] = String(flag)
                default:
                    r.fail(JSONPointer.appending(pointer + "/parameters", key), "must be a text, number or boolean")
                }
            }
        }
        let approve = names(entry["approve"], at: pointer + "/approve")
        let checks = checks(entry["checks"], at: pointer + "/checks")
        guard let workflow else { return nil }
        return EvaluationTask(
            id: id, description: text(entry["description"], at: pointer + "/description"), workflow: workflow,
            parameters: parameters, approve: approve, oracle: oracle, checks: checks)
    }

    mutating func checks(_ value: JSONValue?, at pointer: String) -> EvaluationChecks {
        var checks = EvaluationChecks()
        guard let value, let f = r.object(value, at: pointer, allowed: Self.checkKeys) else { return checks }
        if let (v, p) = f("status"), let status = r.enumeration(v, at: p, AgentRunOutcome.Status.self) {
            checks.status = status.rawValue
        }
        checks.answerContains = facts(value["answer_contains"], at: pointer + "/answer_contains")
        checks.notesContain = facts(value["notes_contain"], at: pointer + "/notes_contain")
        checks.answerExcludes = names(value["answer_excludes"], at: pointer + "/answer_excludes")
        checks.called = names(value["called"], at: pointer + "/called")
        checks.notCalled = names(value["not_called"], at: pointer + "/not_called")
        if let (v, p) = f("no_refusals"), let flag = r.bool(v, at: p) { checks.noRefusals = flag }
        if let (v, p) = f("max_steps"), let steps = r.integer(v, at: p, in: 1...1000) { checks.maxSteps = Int(steps) }
        return checks
    }
}
