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
        let document: YAMLDocument
        do {
            document = try YAMLDocument(text: text)
        } catch {
            throw RunsError(.invalidInput, "\(url.path): not valid YAML", cause: error)
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
    let document: YAMLDocument
    let url: URL
    var problems: [String] = []
    /// Files the suite names that do not exist, with the field that names them.
    var missing: [String] = []

    static let suiteKeys: Set = ["airlock_eval", "name", "description", "tasks"]
    static let taskKeys: Set = ["id", "description", "workflow", "parameters", "approve", "oracle", "checks"]
    static let checkKeys = Set([
        "status", "answer_contains", "answer_excludes", "notes_contain", "called", "not_called", "no_refusals",
        "max_steps",
    ])

    init(document: YAMLDocument, url: URL) {
        self.document = document
        self.url = url
    }

    mutating func problem(_ pointer: String, _ what: String) {
        let line = document.line(for: pointer).map { " (line \($0))" } ?? ""
        problems.append("\(pointer.isEmpty ? "(root)" : pointer)\(line): \(what)")
    }

    mutating func unknownKeys(_ object: [String: JSONValue], allowed: Set<String>, at pointer: String) {
        for key in object.keys.sorted() where !allowed.contains(key) {
            problem(JSONPointer.appending(pointer, key), DocumentProblems.unknownField(key, allowed: allowed.sorted()))
        }
    }

    mutating func suite() -> EvaluationSuite {
        let root = document.value
        guard let object = root.objectValue else {
            problem("", "must be a mapping with airlock_eval, name and tasks")
            return EvaluationSuite(name: "", path: url, tasks: [])
        }
        unknownKeys(object, allowed: Self.suiteKeys, at: "")
        if root["airlock_eval"]?.integerValue != EvaluationSuite.version {
            problem("/airlock_eval", "must be \(EvaluationSuite.version) (the suite format this Airlock reads)")
        }
        let name = root["name"]?.stringValue ?? ""
        if name.wholeMatch(of: #/[A-Za-z0-9][A-Za-z0-9._-]{0,127}/#) == nil {
            problem("/name", "must be a name of letters, digits, '-', '_' or '.' (at most 128)")
        }
        let description = text(root["description"], at: "/description")
        var tasks: [EvaluationTask] = []
        guard let list = root["tasks"]?.arrayValue, !list.isEmpty else {
            problem("/tasks", "must be a non-empty list of tasks")
            return EvaluationSuite(name: name, description: description, path: url, tasks: [])
        }
        if list.count > EvaluationSuite.maxTasks {
            problem("/tasks", "holds \(list.count) tasks, more than \(EvaluationSuite.maxTasks)")
        }
        var seen: Set<String> = []
        for (index, entry) in list.enumerated() {
            let at = JSONPointer.appending("/tasks", index)
            guard let task = task(entry, at: at) else { continue }
            if !seen.insert(task.id).inserted { problem(at + "/id", "\(task.id) is used by an earlier task") }
            tasks.append(task)
        }
        return EvaluationSuite(name: name, description: description, path: url, tasks: tasks)
    }

    mutating func text(_ value: JSONValue?, at pointer: String) -> String? {
        guard let value else { return nil }
        guard let text = value.stringValue else {
            problem(pointer, "must be text")
            return nil
        }
        return text
    }

    /// A file named relative to the suite's directory, noted as missing when it is not there.
    mutating func file(_ value: JSONValue?, at pointer: String, required: Bool) -> URL? {
        guard let value else {
            if required { problem(pointer, "is required: a file path relative to the suite") }
            return nil
        }
        guard let path = value.stringValue, !path.isEmpty else {
            problem(pointer, "must be a file path relative to the suite")
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
        guard let value else { return [] }
        guard let list = value.arrayValue else {
            problem(pointer, "must be a list of names")
            return []
        }
        var out: [String] = []
        for (index, item) in list.enumerated() {
            if let name = item.stringValue, !name.isEmpty {
                out.append(name)
            } else {
                problem(JSONPointer.appending(pointer, index), "must be a non-empty name")
            }
        }
        return out
    }

    /// A list of facts, each a text or a list of alternative texts.
    mutating func facts(_ value: JSONValue?, at pointer: String) -> [[String]] {
        guard let value else { return [] }
        guard let list = value.arrayValue else {
            problem(pointer, "must be a list of texts (or of lists of alternative texts)")
            return []
        }
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
                problem(at, "must be a non-empty text or a non-empty list of non-empty texts")
            }
        }
        return out
    }

    mutating func task(_ entry: JSONValue, at pointer: String) -> EvaluationTask? {
        guard let object = entry.objectValue else {
            problem(pointer, "must be a mapping with id, workflow and checks")
            return nil
        }
        unknownKeys(object, allowed: Self.taskKeys, at: pointer)
        let id = entry["id"]?.stringValue ?? ""
        if id.wholeMatch(of: #/[A-Za-z0-9][A-Za-z0-9._-]{0,127}/#) == nil {
            problem(pointer + "/id", "must be a name of letters, digits, '-', '_' or '.' (at most 128)")
        }
        let workflow = file(entry["workflow"], at: pointer + "/workflow", required: true)
        let oracle = file(entry["oracle"], at: pointer + "/oracle", required: false)
        var parameters: [String: String] = [:]
        if let given = entry["parameters"] {
            if let values = given.objectValue {
                for (key, value) in values {
                    switch value {
                    case .string(let text): parameters[key] = text
                    case .integer(let number): parameters[key] = String(number)
                    case .number(let number): parameters[key] = String(number)
                    case .bool(let flag): parameters[key] = String(flag)
                    default:
                        problem(
                            JSONPointer.appending(pointer + "/parameters", key), "must be a text, number or boolean")
                    }
                }
            } else {
                problem(pointer + "/parameters", "must be a mapping of parameter names to values")
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
        guard let value else {
            problem(pointer, "is required: what the outcome must show (status, answer_contains, …)")
            return checks
        }
        guard let object = value.objectValue else {
            problem(pointer, "must be a mapping")
            return checks
        }
        unknownKeys(object, allowed: Self.checkKeys, at: pointer)
        if let status = value["status"] {
            let known = AgentRunOutcome.Status.allCases.map(\.rawValue)
            if let text = status.stringValue, known.contains(text) {
                checks.status = text
            } else {
                problem(pointer + "/status", "must be one of \(known.joined(separator: ", "))")
            }
        }
        checks.answerContains = facts(value["answer_contains"], at: pointer + "/answer_contains")
        checks.notesContain = facts(value["notes_contain"], at: pointer + "/notes_contain")
        checks.answerExcludes = names(value["answer_excludes"], at: pointer + "/answer_excludes")
        checks.called = names(value["called"], at: pointer + "/called")
        checks.notCalled = names(value["not_called"], at: pointer + "/not_called")
        if let flag = value["no_refusals"] {
            if let bool = flag.boolValue {
                checks.noRefusals = bool
            } else {
                problem(pointer + "/no_refusals", "must be true or false")
            }
        }
        if let steps = value["max_steps"] {
            if let number = steps.integerValue, number >= 1, number <= 1000 {
                checks.maxSteps = Int(number)
            } else {
                problem(pointer + "/max_steps", "must be an integer from 1 to 1000")
            }
        }
        return checks
    }
}
