import AirlockCore
import Foundation
import Policy

/// A policy with the text it was compiled from: a run records both, so that a reviewer reads
/// and a replay re-compiles exactly what judged the run.
public struct PolicyDocument: Sendable {
    /// The compiled policy.
    public let policy: Policy
    /// The source text (YAML).
    public let text: String
    /// Where it was read from, if from a file (informational).
    public let path: String?

    /// Compiles a policy text.
    /// - Throws: ``AgentError`` `invalid-policy` naming `path` (or `label`) and the first problem.
    public init(text: String, path: String?) throws(AgentError) {
        do {
            policy = try Policy(yaml: text)
        } catch {
            throw AgentError(.invalidPolicy, "\(path ?? "the recorded policy"): \(error.message)")
        }
        self.text = text
        self.path = path
    }

    /// Reads and compiles the policy a workflow names.
    /// - Throws: ``AgentError`` `invalid-policy` naming the file and the first problem.
    public static func load(of workflow: Workflow) throws(AgentError) -> PolicyDocument {
        let text: String
        do {
            text = try String(contentsOf: workflow.policyURL, encoding: .utf8)
        } catch {
            throw AgentError(
                .invalidPolicy, "workflow \(workflow.name): cannot read its policy \(workflow.policyURL.path)",
                cause: error)
        }
        return try PolicyDocument(text: text, path: workflow.policyURL.path)
    }
}
