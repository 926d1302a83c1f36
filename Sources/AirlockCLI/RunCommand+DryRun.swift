import Agent
import AirlockCore
import ArgumentParser
import Foundation
import Runs

extension RunCommand {
    /// `airlock run WORKFLOW --dry-run`: the run assembled as far as ``RunConstructor/plan(_:)``
    /// goes (the workflow, its tools with versions and digests, the policy, the model choice, the
    /// tool-calling mode, budgets, parameters, pre-approvals, workspace and datasets), every
    /// problem at once; no model is started, no workspace created, nothing recorded.
    ///
    /// Exit status (docs/cli.md): 0 nothing in the way, 65 problems, 66 no workflow file, 74 the
    /// registry cannot be read.
    func printDryRun(_ home: AirlockHome) throws {
        let url = ToolsCLI.url(workflow)
        let plan = try CLI.run { () throws(RunsError) in
            let request = RunRequest(
                workflow: url, parameters: try RunRequest.parameters(parameters),
                model: model.map(RunRequest.ModelChoice.endpoint) ?? .embedded, toolCalling: toolCalling,
                preApproved: approve, workspace: workspace.map(ToolsCLI.url), runID: runID, principal: Self.userName())
            return try RunConstructor(home: home).plan(request)
        }
        let workflow = plan.workflow
        let readable = plan.check.reading.isDocument
        let policy = plan.check.policy
        let settings = workflow.model
        let budgets = workflow.budgets
        if json {
            print(
                ([
                    "dry_run": true, "ok": .bool(plan.problems.isEmpty), "file": .string(url.path),
                    "workflow": readable ? .string(workflow.name) : .null, "role": .string(workflow.role),
                    "principal": .string(Self.userName()), "workflow_sha256": .string(workflow.sha256),
                    "policy": policy.map {
                        [
                            "name": .string($0.policy.name), "digest": .string($0.policy.digest),
                            "path": .string($0.path ?? ""),
                        ]
                    } ?? .null,
                    "tools": .array(plan.check.tools.map(WorkflowCLI.json)),
                    "model": plan.model.map(Self.json) ?? .null,
                    "tool_calling": plan.toolCalling.map { .string($0.rawValue) } ?? .null,
                    "sampling": [
                        "temperature": .number(settings.temperature), "max_tokens": .integer(Int64(settings.maxTokens)),
                        "seed": settings.seed.map { .integer(Int64($0)) } ?? .null,
                    ],
                    "budgets": [
                        "max_steps": .integer(Int64(budgets.maxSteps)),
                        "max_tool_calls": .integer(Int64(budgets.maxToolCalls)),
                        "wall_seconds": .number(budgets.wallSeconds),
                    ],
                    "plan": .array(
                        workflow.renderPlan(plan.parameters).map {
                            ["tool": .string($0.tool), "arguments": $0.arguments]
                        }),
                    "tool_result_bytes": settings.toolResultBytes.map { .integer(Int64($0)) } ?? .null,
                    "approval": .string(workflow.approval.rawValue),
                    "pre_approved": .array(plan.preApproved.map(JSONValue.string)),
                    "parameters": .object(plan.parameters),
                    "workspace": plan.workspace.map { .string($0.path) } ?? .null,
                    "datasets": .object(plan.datasets.mapValues { .string($0.path) }),
                    "problems": .array(plan.problems.map(\.json)),
                ] as JSONValue).prettyString)
        } else {
            var lines = ["dry run of \(url.path): nothing was started, created or recorded"]
            func add(_ label: String, _ values: [String]) {
                for (index, value) in (values.isEmpty ? ["-"] : values).enumerated() {
                    lines.append(
                        (index == 0 ? label + ":" : "").padding(toLength: 14, withPad: " ", startingAt: 0) + value)
                }
            }
            if readable {
                add(
                    "workflow",
                    ["\(workflow.name) (role \(workflow.role), for \(Self.userName())), sha256:\(workflow.sha256)"])
                add(
                    "policy", policy.map { ["\($0.policy.name), digest \($0.policy.digest) (\($0.path ?? "?"))"] } ?? []
                )
                add("tools", plan.check.tools.map(WorkflowCLI.text))
                add("model", plan.model.map { [Self.text($0)] } ?? [])
                add("tool calling", plan.toolCalling.map { [$0.rawValue] } ?? [])
                add(
                    "sampling",
                    [
                        "temperature \(JSONValue.number(settings.temperature).canonicalString), max_tokens \(settings.maxTokens), seed \(settings.seed.map(String.init) ?? (plan.model.map(Self.isEmbedded) == true ? "the model's default" : "none"))"
                    ])
                add(
                    "budgets",
                    [
                        "\(budgets.maxSteps) model steps, \(budgets.maxToolCalls) tool calls, \(JSONValue.number(budgets.wallSeconds).canonicalString) s wall time"
                    ])
                if !workflow.plan.isEmpty {
                    add(
                        "plan",
                        workflow.renderPlan(plan.parameters).map {
                            "\($0.tool) \($0.arguments.canonicalString) (run before the model is asked)"
                        })
                }
                if let bytes = settings.toolResultBytes {
                    add("results", ["the model is shown at most \(bytes) bytes of each tool result (summarised)"])
                }
                add(
                    "approval",
                    [
                        "\(workflow.approval.rawValue); pre-approved: \(plan.preApproved.isEmpty ? "none" : plan.preApproved.joined(separator: ", "))"
                    ])
                add(
                    "parameters",
                    plan.parameters.keys.sorted().map {
                        "\($0)=\(plan.parameters[$0].map { $0.stringValue ?? $0.canonicalString } ?? "")"
                    })
                add("workspace", [plan.workspace.map(\.path) ?? "a new directory under \(home.workspaces.path)"])
                add("datasets", plan.datasets.keys.sorted().map { "\($0)=\(plan.datasets[$0]?.path ?? "")" })
            }
            if plan.problems.isEmpty {
                lines.append("problems:     none")
            } else {
                lines.append("\(plan.problems.count) problem(s):")
                lines += plan.problems.map { "  " + WorkflowCLI.line($0, workflow: url.path) }
            }
            print(lines.joined(separator: "\n"))
        }
        if !plan.problems.isEmpty { throw ExitCode.dataError }
    }

    static func isEmbedded(_ model: PlannedModel) -> Bool {
        if case .embedded = model { return true }
        return false
    }

    static func text(_ model: PlannedModel) -> String {
        switch model {
        case .embedded(let name, let file, let sha256, let server, let lock):
            "embedded \(name) (\(file), sha256:\(sha256); server \(server); lock sha256:\(lock)), started in the background if it is not running"
        case .endpoint(let name): name
        case .scripted(let name, let responses): "\(name) (\(responses) scripted response(s))"
        }
    }

    static func json(_ model: PlannedModel) -> JSONValue {
        switch model {
        case .embedded(let name, let file, let sha256, let server, let lock):
            [
                "kind": "embedded", "name": .string(name), "model_file": .string(file), "model_sha256": .string(sha256),
                "server": .string(server), "lock_sha256": .string(lock),
            ]
        case .endpoint(let name): ["kind": "endpoint", "name": .string(name)]
        case .scripted(let name, let responses):
            ["kind": "scripted", "name": .string(name), "responses": .integer(Int64(responses))]
        }
    }
}
