import AirlockCore
import ArgumentParser
import Foundation
import MCPTools
import Policy
import Runs
import Sandbox
import Tools

/// `airlock tools test NAME --args JSON`: the developer's inner loop. Validates the arguments,
/// renders argv, runs the tool in the sandbox with its manifest's mounts and limits, and prints
/// the execution record, with the tool's secrets redacted from what it printed (as the model and
/// the trace would see it: a terminal and a CI log are places a secret must not land either).
///
/// Exit code: the tool's own (128 + signal when killed) when it ran; 65 for invalid arguments;
/// 66 for an unknown tool; 1 for a drifted executable; 125 when the sandbox could not be set up.
struct ToolsTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a registered tool once in the sandbox and print the execution record.",
        discussion:
            "Exits with the tool's own exit code when it ran, 65 for invalid arguments, 125 when the sandbox could not be set up."
    )

    @Argument(help: "NAME or NAME@VERSION.")
    var reference: String

    @Option(name: .customLong("args"), help: "The call's arguments as a JSON object.")
    var arguments: String = "{}"

    @Option(name: .customLong("dataset"), help: "NAME=PATH: a dataset directory (overrides AIRLOCK_HOME/site.yaml).")
    var datasets: [String] = []

    @Option(help: "Use this directory as ${workspace} (default: a new AIRLOCK_HOME/workspaces/test-…).")
    var workspace: String?

    @Flag(help: "Print the result and execution record as JSON.")
    var json = false

    func run() async throws {
        let (home, registry) = try ToolsCLI.registry()
        let parsed: JSONValue
        do {
            parsed = try JSONParser().parse(arguments)
        } catch {
            printError("error: --args: not valid JSON: \(error)")
            throw ExitCode.dataError
        }
        do {
            var context = ToolRunContext(
                workspace: nil, datasets: try CLI.run { () throws(RunsError) in try home.site().datasets })
            let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            for entry in datasets {
                let (name, url) = try DatasetOption.parse(entry, base: cwd)
                context.datasets[name] = url
            }
            let tool = try registry.resolve(reference)
            let lease = try CLI.run { () throws(RunsError) in
                try home.claimWorkspace(explicit: workspace.map(ToolsCLI.url), prefix: "test")
            }
            defer { withExtendedLifetime(lease) {} }
            context.workspace = lease.url
            var runner = ToolRunner(registry: registry, secrets: try SecretsCLI.broker(home))
            runner.internalHosts = try CLI.run { () throws(RunsError) in try home.site().internalHosts }
            let call = ToolCallIdentity(
                runID: "tools-test", argumentsDigest: ArgumentDigest.digest(tool: tool.manifest.name, arguments: parsed)
            )
            // A tool of an MCP server is called on a session of its own, stopped after the call.
            let servers = MCPToolHost()
            runner.sessions = servers
            let outcome: Result<ToolRunResult, ToolsError>
            do {
                outcome = .success(try await runner.run(tool, arguments: parsed, context: context, call: call))
            } catch {
                outcome = .failure(error)
            }
            await servers.shutdown()
            var result = try outcome.get()
            if let redactor = runner.secrets?.redactor {
                let output = redactor.redacted(result.output)
                if output != result.output {
                    result.output = output
                    result.json = result.json == nil ? nil : try? JSONParser().parse(output)
                }
                result.record = result.record.mappingOutputs { redactor.redacted($0) }
            }
            report(result, workspace: context.workspace)
            throw ExitCode(result.exitCode)
        } catch let error as ToolsError {
            throw CLI.fail(error)
        }
    }

    private func report(_ result: ToolRunResult, workspace: URL?) {
        let record = result.record
        if json {
            let document: JSONValue = [
                "tool": .string(result.tool), "argv": .array(result.arguments.map(JSONValue.string)),
                "exitCode": .integer(Int64(result.exitCode)), "workspace": workspace.map { .string($0.path) } ?? .null,
                "output": .string(result.output), "outputTruncated": .bool(result.outputTruncated),
                "outputJSON": result.json ?? .null,
                "outputProblem": result.outputProblem.map(JSONValue.string) ?? .null,
                "record": ToolsCLI.json(record),
                "workspaceChanges": result.workspaceChanges.map { ToolsCLI.json($0.changes) } ?? .null,
            ]
            print(document.prettyString)
            return
        }
        let ending: String
        switch record.termination {
        case .exited(let code): ending = "exited \(code)"
        case .signaled(let signal): ending = "killed by signal \(signal)"
        }
        print("tool:      \(result.tool)")
        print("argv:      \(result.arguments.map { "\"\($0)\"" }.joined(separator: " "))")
        print(
            "result:    \(ending)\(record.timedOut ? " (timed out)" : "")\(record.oomKilled ? " (out of memory)" : "") in \(Units.duration(record.wallSeconds)), cpu \(Units.duration(record.userCPUSeconds)) user \(Units.duration(record.systemCPUSeconds)) sys, peak memory \(Units.bytes(record.peakMemoryBytes))"
        )
        if let workspace { print("workspace: \(workspace.path)") }
        print("stdout (\(record.stdout.totalBytes) bytes\(result.outputTruncated ? ", truncated" : "")):")
        print(result.output, terminator: result.output.hasSuffix("\n") || result.output.isEmpty ? "" : "\n")
        if let problem = result.outputProblem { print("output problem: \(problem)") }
        if record.stderr.totalBytes > 0 {
            print("stderr (\(record.stderr.totalBytes) bytes):")
            print(record.stderr.text, terminator: record.stderr.text.hasSuffix("\n") ? "" : "\n")
        }
        for change in result.workspaceChanges?.changes ?? [] {
            print(
                "changed:   \(change.change.rawValue) \(change.kind == .file ? "" : change.kind.rawValue + " ")\(change.path)"
                    + (change.bytes.map { " (\($0) bytes" + (change.sha256.map { ", sha256 \($0)" } ?? "") + ")" } ?? "")
                    + (change.omitted.map { " [\($0)]" } ?? ""))
        }
        if let cut = result.workspaceChanges?.cut { print("workspace changes cut: \(cut)") }
        for denied in record.deniedSyscalls {
            print("denied:    \(denied.name) ×\(denied.count)\(denied.detail.map { " (\($0))" } ?? "")")
        }
        for connection in record.network?.connections ?? [] {
            print(
                "network:   \(connection.host):\(connection.port) → \(connection.address) \(connection.outcome.rawValue)"
                    + (connection.method.map { ", \($0) \(connection.path ?? "?")" } ?? "")
                    + (connection.status.map { " → \($0)" } ?? "")
                    + ", sent \(connection.bytesSent) B, received \(connection.bytesReceived) B in \(Units.duration(connection.durationSeconds))"
                    + (connection.reason.map { " (\($0))" } ?? ""))
        }
        for refused in record.network?.refusedConnects ?? [] { print("refused:   connect \(refused)") }
        let c = record.confinement
        print(
            "confined:  namespaces \(c.namespaces.joined(separator: ",")); seccomp \(c.seccompInstructions) insns; landlock ABI \(c.landlockABI); cgroup \(c.cgroupVersion)\(c.degradedLayers.isEmpty ? "" : "; DEGRADED: " + c.degradedLayers.map(\.rawValue).joined(separator: ","))"
        )
    }
}
