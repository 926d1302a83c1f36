import Agent
import AirlockCore
import ArgumentParser
import Runs

/// `airlock workflow …`: check workflows before running them (see docs/workflows.md).
struct WorkflowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflow",
        abstract: "Check workflow files against this home before running them.",
        subcommands: [WorkflowLintCommand.self]
    )
}

/// How workflow problems are printed, by `workflow lint` and `run --dry-run` alike.
enum WorkflowCLI {
    /// `FILE:LINE: error: POINTER: MESSAGE` (as `policy lint` prints its findings); a problem of a
    /// command-line option or a file as a whole is `WHERE: error: MESSAGE`.
    static func line(_ problem: WorkflowProblem, workflow: String) -> String {
        let file = problem.file ?? workflow
        guard !(problem.pointer.isEmpty && problem.line == nil && problem.file != nil) else {
            return "\(file): error: \(problem.message)"
        }
        let pointer = problem.pointer.isEmpty ? "(document)" : problem.pointer
        return "\(file):\(problem.line.map(String.init) ?? "-"): error: \(pointer): \(problem.message)"
    }

    /// A registered tool as the dry run and the lint show it.
    static func json(_ tool: PlannedTool) -> JSONValue {
        [
            "tool": .string(tool.reference), "manifest_sha256": .string(tool.manifestSHA256),
            "executable_sha256": .string(tool.executableSHA256), "stored_sha256": .string(tool.storedSHA256),
        ]
    }

    /// `logs.search@1.0.0  manifest sha256:… executable sha256:… (the stored copy matches its pin)`.
    static func text(_ tool: PlannedTool) -> String {
        "\(tool.reference)  manifest sha256:\(tool.manifestSHA256)  executable sha256:\(tool.executableSHA256)"
            + (tool.storedSHA256 == tool.executableSHA256
                ? " (the stored copy matches its pin)" : " (DRIFTED: the stored copy is sha256:\(tool.storedSHA256))")
    }
}

/// `airlock workflow lint FILE [--json]`: every problem of a workflow at once, each with its JSON
/// pointer and line: the document's fields, types, ranges and budgets, the tools it lists that
/// this home's registry does not know (or whose stored executable drifted from its pin), and a
/// policy that is missing or does not load (each of its problems at its own line).
///
/// Exit status (docs/cli.md): 0 clean, 65 problems, 66 no such file, 74 the registry cannot be read.
struct WorkflowLintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check a workflow file against this home: its fields, tools and policy, every problem at once.",
        discussion: "Exit codes: 0 clean, 65 problems, 66 no such file (docs/cli.md)."
    )

    @Argument(help: "The workflow file (YAML).")
    var file: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let (home, _) = try ToolsCLI.registry()
        let url = ToolsCLI.url(file)
        let check = try CLI.run { () throws(RunsError) in try RunConstructor(home: home).check(workflow: url) }
        if json {
            print(
                ([
                    "file": .string(url.path), "ok": .bool(check.problems.isEmpty),
                    "workflow": check.reading.isDocument ? .string(check.workflow.name) : .null,
                    "tools": .array(check.tools.map(WorkflowCLI.json)),
                    "policy": check.policy.map {
                        [
                            "name": .string($0.policy.name), "digest": .string($0.policy.digest),
                            "path": .string($0.path ?? ""),
                        ]
                    } ?? .null,
                    "problems": .array(check.problems.map(\.json)),
                ] as JSONValue).prettyString)
        } else if check.problems.isEmpty {
            print(
                "\(url.path): ok: workflow \(check.workflow.name), \(check.tools.count) tool(s) registered (\(check.tools.map(\.reference).joined(separator: ", "))), policy \(check.policy?.policy.name ?? "?") loads"
            )
        } else {
            for problem in check.problems { print(WorkflowCLI.line(problem, workflow: url.path)) }
            print("\(check.problems.count) problem(s)")
        }
        if !check.problems.isEmpty { throw ExitCode.dataError }
    }
}
