import Agent
import AirlockCore
import Foundation
import Model
import Tools

/// A workflow checked against a home, without running it (`airlock workflow lint`): the
/// document's own problems, the tools it lists as the home's registry has them, and its policy.
public struct WorkflowCheck: Sendable {
    /// The document as far as it could be read.
    public var reading: WorkflowReading
    /// The workflow's tools the registry knows, in the workflow's order.
    public var tools: [PlannedTool]
    /// The policy, when it loads.
    public var policy: PolicyDocument?
    /// Every problem found, each with its file, JSON pointer and line.
    public var problems: [WorkflowProblem]

    /// The workflow as read (defaults where a field is wrong).
    public var workflow: Workflow { reading.workflow }
}

/// One workflow tool as the home's registry has it.
public struct PlannedTool: Sendable, Hashable {
    /// `name@version`.
    public var reference: String
    /// The SHA-256 of the registered manifest.
    public var manifestSHA256: String
    /// The executable's pinned SHA-256.
    public var executableSHA256: String
    /// The stored executable's SHA-256 as measured now (`missing` when it cannot be read).
    public var storedSHA256: String
}

/// What `airlock run --dry-run` found: the run as it would be assembled (``RunConstructor/plan(_:)``),
/// with every problem that would stop it or make its calls fail, and nothing started, created or
/// recorded.
public struct RunPlan: Sendable {
    /// The workflow, its tools and its policy, checked.
    public var check: WorkflowCheck
    /// The typed parameters the task would be rendered with.
    public var parameters: [String: JSONValue]
    /// The model the run would use, when it can be selected.
    public var model: PlannedModel?
    /// How tools would be offered to it, when the mode resolves.
    public var toolCalling: ToolCallingMode?
    /// The tools approved in advance (the workflow's and `--approve`).
    public var preApproved: [String]
    /// The workspace: the `--workspace` given, or `nil` for a new one under the home.
    public var workspace: URL?
    /// The datasets the site configures.
    public var datasets: [String: URL]
    /// Every problem: the workflow's, its tools' and policy's, the parameters', the request's,
    /// the site's and the model's.
    public var problems: [WorkflowProblem]

    /// The workflow as read.
    public var workflow: Workflow { check.workflow }
}

/// The model a run would use, as found without starting or asking it.
public enum PlannedModel: Sendable, Hashable {
    /// The embedded model: its name, model file and pinned digest, its server and the lock's digest.
    case embedded(name: String, modelFile: String, modelSHA256: String, server: String, lockSHA256: String)
    /// A server at an endpoint (`unix:`, loopback or a listed model host).
    case endpoint(String)
    /// A scripted model: its file and how many responses it holds.
    case scripted(name: String, responses: Int)
}
