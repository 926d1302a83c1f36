import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

@testable import Agent

/// Workflow files: the shipped ones load and name shipped tools; bad ones name the field and line.
@Suite("Workflows")
struct WorkflowTests {
    @Test func shippedWorkflowsLoadAndUseShippedTools() throws {
        let directory = AgentFixture.repository.appendingPathComponent("manifests/workflows")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 2)
        let shipped = try FileManager.default.contentsOfDirectory(
            atPath: AgentFixture.repository.appendingPathComponent("manifests/tools").path
        ).map { $0.replacingOccurrences(of: ".yaml", with: "") }
        for file in files {
            let workflow = try Workflow.load(directory.appendingPathComponent(file))
            for tool in workflow.tools { #expect(shipped.contains(tool), "\(file): \(tool)") }
            _ = try AgentLoop.loadPolicy(of: workflow)
        }
    }

    @Test func parametersAreTypedAndRendered() throws {
        let workflow = try AgentFixture.workflow("log-triage")
        #expect(workflow.approvalTimeoutSeconds == Workflow.defaultApprovalTimeoutSeconds)
        let (task, values) = try workflow.renderTask(["level": "WARN"])
        #expect(task.contains("Triage the WARN lines"))
        #expect(task.contains("\"Log triage\""))
        #expect(values["level"] == "WARN")
        let unknown = #expect(throws: AgentError.self) { try workflow.renderTask(["levle": "x"]) }
        #expect(unknown?.code == .invalidParameter)
        #expect(unknown?.message.contains("--param levle") == true)
        let report = try AgentFixture.workflow("dataset-report")
        let missing = #expect(throws: AgentError.self) { try report.renderTask([:]) }
        #expect(missing?.message.contains("--param question") == true)
    }

    @Test func malformedWorkflowsNameEveryFieldAndLine() throws {
        let text = """
            airlock_workflow: 1
            name: bad name
            description: d
            system_prompt: s
            task: "look at {{thing}}"
            tools: []
            policy: p.yaml
            budgets: {max_steps: 0, wall_time: 3}
            approval: {mode: maybe, timeout: 90000}
            """
        let error = #expect(throws: AgentError.self) {
            try Workflow(yaml: text, label: "w.yaml", base: URL(fileURLWithPath: "/"), sha256: "")
        }
        let message = error?.message ?? ""
        #expect(error?.code == .invalidWorkflow)
        #expect(message.contains("/name (line 2): must be letters"))
        #expect(message.contains("/task (line 5): uses {{thing}}"))
        #expect(message.contains("/tools (line 6): must list at least one"))
        #expect(message.contains("/budgets/max_steps (line 8): must be an integer from 1"))
        #expect(message.contains("/budgets/wall_time"))
        #expect(message.contains("/approval/mode (line 9): must be ask or deny"))
        #expect(message.contains("/approval/timeout (line 9): must be a number from 1 to 86400"))
    }
}

/// The result cap cuts on a character boundary, never inside a UTF-8 sequence.
@Suite("Result cap")
struct ResultCapTests {
    @Test func cutsOnCharacterBoundaries() {
        #expect(AgentRun.prefix("abcdef", bytes: 4) == "abcd")
        #expect(AgentRun.prefix("aé€", bytes: 4) == "aé")
        #expect(AgentRun.prefix("aé€", bytes: 6) == "aé€")
        #expect(AgentRun.prefix("", bytes: 0) == "")
    }
}
