import Agent
import Foundation
import Model

/// What a front door asks for when it starts a run: the workflow, its parameters, the model, and
/// who answers approvals. Everything else (policy, tools, site, secrets, trace) comes from the
/// home through ``RunConstructor``.
public struct RunRequest: Sendable {
    /// Which model answers.
    public enum ModelChoice: Sendable, Hashable {
        /// The embedded local model, started confined in the background if it is not running.
        case embedded
        /// An endpoint as the analyst wrote it: `unix:PATH`, `http://127.0.0.1:PORT[/PATH]`, or
        /// `script:FILE.yaml` (checked against the site's air-gap rule).
        case endpoint(String)
    }

    /// The workflow file.
    public var workflow: URL
    /// The task parameters by name, as text (typed by the workflow's declarations).
    public var parameters: [String: String]
    /// The model.
    public var model: ModelChoice
    /// What proposes the calls instead of a model, or `nil` (default) for ``model``: a front door
    /// whose caller is itself an agent (`airlock mcp serve`: each `tools/call` of the MCP client
    /// is the proposal). It is recorded as the run's model, so that replay plays its proposals
    /// back like any model's; ``model`` and ``toolCalling`` are then not used (tools are offered
    /// as the manifests write them: native).
    public var driver: (any ChatModel)?
    /// `auto` (or `nil`), `native` or `constrained`: how tools are offered to the model.
    public var toolCalling: String?
    /// Tools approved in advance (each must be one of the workflow's).
    public var preApproved: [String]
    /// The run's workspace, or `nil` for a new one under the home.
    public var workspace: URL?
    /// The run id, or `nil` for a new UUID.
    public var runID: String?
    /// The person the run acts for.
    public var principal: String
    /// Who is asked when the policy says ask, or `nil` (default): the home's approval store
    /// (``StoreApprover``), with ``prompt`` beside it.
    public var approver: (any Approver)?
    /// Where the analyst sees an approval request besides the store: the terminal prompt, or a
    /// notice where there is no terminal (default none).
    public var prompt: (any ApprovalPrompt)?
    /// Where relative paths in ``model`` (a script) are taken from.
    public var base: URL
    /// What the front door cancels the run with (it requests a reason, then cancels the run's
    /// task), or `nil` for a fresh ``TaskCancellation``.
    public var cancellation: TaskCancellation?

    /// Creates a request.
    public init(
        workflow: URL, parameters: [String: String] = [:], model: ModelChoice = .embedded, toolCalling: String? = nil,
        preApproved: [String] = [], workspace: URL? = nil, runID: String? = nil, principal: String,
        approver: (any Approver)? = nil, prompt: (any ApprovalPrompt)? = nil,
        base: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true),
        cancellation: TaskCancellation? = nil, driver: (any ChatModel)? = nil
    ) {
        self.driver = driver
        self.cancellation = cancellation
        self.workflow = workflow
        self.parameters = parameters
        self.model = model
        self.toolCalling = toolCalling
        self.preApproved = preApproved
        self.workspace = workspace
        self.runID = runID
        self.principal = principal
        self.approver = approver
        self.prompt = prompt
        self.base = base
    }

    /// Parses `K=V` entries (the `--param` option, a form's fields) into parameters.
    /// - Throws: ``RunsError`` `usage` naming the entry.
    public static func parameters(_ entries: [String]) throws(RunsError) -> [String: String] {
        var values: [String: String] = [:]
        for entry in entries {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw RunsError(.usage, "--param \(entry): expected K=V")
            }
            values[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return values
    }
}
