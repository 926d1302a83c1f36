import AirlockCore
import Foundation

/// One problem with a workflow, or with a file it names (its policy), or with what a run asks of
/// it (a parameter, a pre-approval): where it is, as a JSON pointer and a line, and what is wrong.
public struct WorkflowProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file the pointer and line are in, when it is not the workflow itself (its policy,
    /// `site.yaml`, a model script).
    public var file: String?
    /// The JSON pointer of the field (`""` for the whole document).
    public var pointer: String
    /// The 1-based line, when known.
    public var line: Int?
    /// What is wrong, and what to do about it.
    public var message: String

    /// Creates a problem.
    public init(file: String? = nil, pointer: String, line: Int?, message: String) {
        self.file = file
        self.pointer = pointer
        self.line = line
        self.message = message
    }

    /// `POINTER (line N): MESSAGE`, the file first when it is not the workflow.
    public var description: String {
        let location = (pointer.isEmpty ? "(root)" : pointer) + (line.map { " (line \($0))" } ?? "")
        return (file.map { "\($0): " } ?? "") + "\(location): \(message)"
    }

    /// As JSON for `--json`: `file` (or null), `pointer`, `line` (or null), `message`.
    public var json: JSONValue {
        [
            "file": file.map(JSONValue.string) ?? .null, "pointer": .string(pointer),
            "line": line.map { .integer(Int64($0)) } ?? .null, "message": .string(message),
        ]
    }
}

/// A workflow document as far as it could be read: the workflow (a field that is wrong keeps its
/// default), every problem found in it, and the lines of its fields, so that a check made later
/// (a tool the registry does not know, a policy that does not load, a `--param`) is reported at
/// the line of the field it concerns, in the same shape.
public struct WorkflowReading: Sendable {
    /// The workflow read (complete only when ``problems`` is empty and there is no syntax error).
    public var workflow: Workflow
    /// The file name used in messages.
    public var label: String
    /// The parsed document, or `nil` when it is not YAML.
    let document: YAMLDocument?
    /// Every problem found, in document order.
    public var problems: [WorkflowProblem]
    /// Why the text is not YAML at all, if it is not.
    public var syntaxError: String?

    init(
        workflow: Workflow, label: String, document: YAMLDocument?, problems: [WorkflowProblem],
        syntaxError: String? = nil
    ) {
        self.workflow = workflow
        self.label = label
        self.document = document
        self.problems = problems
        self.syntaxError = syntaxError
    }

    /// Whether the text is a workflow document at all (YAML, a mapping): only then do checks of
    /// its fields (tools, policy, parameters) mean anything.
    public var isDocument: Bool { syntaxError == nil && !problems.contains { $0.pointer.isEmpty } }

    /// Every problem, a syntax error first as a problem of the whole document.
    public var allProblems: [WorkflowProblem] {
        (syntaxError.map { [WorkflowProblem(pointer: "", line: nil, message: "not valid YAML: \($0)")] } ?? [])
            + problems
    }

    /// The line of the field at `pointer` (the nearest enclosing field that has one).
    public func line(for pointer: String) -> Int? {
        document?.line(for: pointer)
    }

    /// A problem at `pointer` of the workflow, with its line.
    public func problem(_ pointer: String, _ message: String) -> WorkflowProblem {
        WorkflowProblem(pointer: pointer, line: line(for: pointer), message: message)
    }

    /// The `--param` values' problems (``Workflow/checkParameters(_:)``), with the lines of the
    /// declarations they concern.
    public func parameterProblems(_ values: [String: String]) -> [WorkflowProblem] {
        workflow.checkParameters(values).problems.map { problem($0.pointer, $0.message) }
    }

    /// The workflow, when the document has no problem.
    /// - Throws: ``AgentError`` `invalid-workflow` listing every problem with its field and line.
    public func accepted() throws(AgentError) -> Workflow {
        if let syntaxError { throw AgentError(.invalidWorkflow, "\(label): not valid YAML", cause: syntaxError) }
        guard problems.isEmpty else {
            throw AgentError(
                .invalidWorkflow,
                "\(label): \(problems.count) problem(s):\n  " + problems.map(\.description).joined(separator: "\n  "))
        }
        return workflow
    }
}
