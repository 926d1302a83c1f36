import AirlockCore
import Foundation
import Sandbox
import Testing

@testable import Tools

/// What the runner asks of the sandbox, checked through a recording stand-in; the shipped tools'
/// suite runs the same path through the real sandbox.
@Suite("Tool runner: spec building")
struct ToolRunnerTests {
    let registry: ToolRegistry

    init() throws { registry = try Fixtures.registry() }

    func register(extra: String) throws -> RegisteredTool {
        let file = try ManifestFile.load(Fixtures.manifestDirectory(Fixtures.manifest(extra: extra)).1)
        _ = try registry.add([file])
        return try registry.resolve(file.manifest.name)
    }

    @Test func theSpecCarriesArgvMountsEnvironmentStdinAndLimits() async throws {
        let extra = """
            stdin: arguments
            filesystem: {readOnly: ["${dataset:logs}"], readWrite: ["${workspace}/out"]}
            environment: {LOGS: "${dataset:logs}", MODE: strict}
            limits: {timeoutSeconds: 3, cpuSeconds: 2, memory: 64MiB, processes: 2, fileSize: 1MiB}
            output: {maxBytes: 1KiB}
            seccomp: [process-tuning]
            """
        let tool = try register(extra: extra)
        let workspace = try Fixtures.directory("ws")
        let logs = try Fixtures.directory("logs")
        let sandbox = RecordingSandbox(stdout: "hello")
        let runner = ToolRunner(registry: registry, sandbox: sandbox)
        let arguments: JSONValue = ["words": ["-x", "y"], "count": 2]
        let result = try await runner.run(
            tool, arguments: arguments, context: ToolRunContext(workspace: workspace, datasets: ["logs": logs]))
        let spec = try #require(sandbox.lastSpec)
        #expect(spec.program == "/opt/airlock/tool/demo.echo")
        #expect(spec.arguments == ["--count=2", "--", "-x", "y"])
        #expect(
            spec.mounts.first
                == BindMount(source: tool.objectURL.path, target: "/opt/airlock/tool/demo.echo", writable: false))
        #expect(spec.mounts.dropFirst().map(\.target) == ["/data/logs", "/workspace/out"])
        #expect(spec.mounts.last?.writable == true)
        #expect(FileManager.default.fileExists(atPath: workspace.appendingPathComponent("out").path))
        #expect(
            spec.environment == [
                "PATH": SandboxSpec.defaultPath, "LANG": "C.UTF-8", "HOME": "/tmp", "LOGS": "/data/logs",
                "MODE": "strict",
            ])
        #expect(spec.stdin == .bytes(arguments.canonicalBytes))
        #expect(spec.workingDirectory == "/")
        #expect(spec.limits.wallTimeSeconds == 3 && spec.limits.cpuSeconds == 2 && spec.limits.memoryBytes == 64 << 20)
        #expect(
            spec.limits.maxProcesses == 2 && spec.limits.fileSizeBytes == 1 << 20
                && spec.limits.outputBytesPerStream == 1024)
        #expect(spec.syscallGroups == [.processTuning])
        #expect(result.output == "hello" && result.exitCode == 0 && result.json == nil)
    }

    @Test func invalidArgumentsNeverReachTheSandbox() async throws {
        let tool = try register(extra: "")
        let sandbox = RecordingSandbox()
        do {
            _ = try await ToolRunner(registry: registry, sandbox: sandbox).run(
                tool, arguments: ["words": [1], "extra": true], context: ToolRunContext(workspace: nil))
            Issue.record("invalid arguments ran")
        } catch {
            #expect(error.code == .invalidArguments)
            #expect(
                error.problems.map(\.description) == [
                    "/words/0: must be a string, not integer", "/extra: is not an allowed property",
                ])
        }
        #expect(sandbox.lastSpec == nil)
    }

    @Test func oversizedArgumentsAreRefused() async throws {
        let tool = try register(extra: "")
        let runner = ToolRunner(registry: registry, sandbox: RecordingSandbox(), maxArgumentBytes: 64)
        let small: JSONValue = ["words": ["a"]]
        _ = try runner.prepare(tool, arguments: small, context: ToolRunContext(workspace: nil))
        do {
            _ = try runner.prepare(
                tool, arguments: ["words": [.string(String(repeating: "x", count: 100))]],
                context: ToolRunContext(workspace: nil))
            Issue.record("oversized arguments were accepted")
        } catch {
            #expect(error.code == .invalidArguments)
            #expect(error.message.contains("more than the 64 accepted"))
        }
    }

    @Test func anUnconfiguredDatasetIsNamed() async throws {
        let tool = try register(extra: "filesystem: {readOnly: [\"${dataset:logs}\"]}")
        do {
            _ = try ToolRunner(registry: registry, sandbox: RecordingSandbox()).prepare(
                tool, arguments: ["words": []], context: ToolRunContext(workspace: nil))
            Issue.record("ran without its dataset")
        } catch {
            #expect(error.code == .invalidPath)
            #expect(error.message.contains("dataset \"logs\" is not configured"))
        }
    }

    @Test func aSymlinkCannotLeadAMountOutOfItsDirectory() async throws {
        let tool = try register(extra: "filesystem: {readOnly: [\"${dataset:logs}/current\"]}")
        let logs = try Fixtures.directory("logs")
        try FileManager.default.createSymbolicLink(
            atPath: logs.appendingPathComponent("current").path, withDestinationPath: "/etc")
        do {
            _ = try ToolRunner(registry: registry, sandbox: RecordingSandbox()).prepare(
                tool, arguments: ["words": []], context: ToolRunContext(workspace: nil, datasets: ["logs": logs]))
            Issue.record("a symlink escaped the dataset")
        } catch {
            #expect(error.code == .invalidPath)
            #expect(error.message.contains("outside"))
        }
    }

    @Test func aSymlinkLeftInTheWorkspaceIsNeitherFollowedNorHandedOver() async throws {
        let tool = try register(extra: "filesystem: {readWrite: [\"${workspace}/out/new\"]}")
        let workspace = try Fixtures.directory("ws")
        let outside = try Fixtures.directory("outside")
        let before = try FileManager.default.attributesOfItem(atPath: outside.path)[.ownerAccountID] as? NSNumber
        try FileManager.default.createSymbolicLink(
            atPath: workspace.appendingPathComponent("out").path, withDestinationPath: outside.path)
        do {
            _ = try ToolRunner(registry: registry, sandbox: RecordingSandbox()).prepare(
                tool, arguments: ["words": []], context: ToolRunContext(workspace: workspace))
            Issue.record("a symlink in the workspace was followed")
        } catch {
            #expect(error.code == .invalidPath)
            #expect(error.message.contains("outside"))
        }
        #expect(!FileManager.default.fileExists(atPath: outside.appendingPathComponent("new").path))
        let after = try FileManager.default.attributesOfItem(atPath: outside.path)[.ownerAccountID] as? NSNumber
        #expect(before == after)
    }

    @Test func aDanglingSymlinkInTheWorkspaceIsRefused() async throws {
        let tool = try register(extra: "filesystem: {readWrite: [\"${workspace}/out/new\"]}")
        let workspace = try Fixtures.directory("ws")
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("absent-\(UUID().uuidString)")
        try FileManager.default.createSymbolicLink(
            atPath: workspace.appendingPathComponent("out").path, withDestinationPath: target.path)
        do {
            _ = try ToolRunner(registry: registry, sandbox: RecordingSandbox()).prepare(
                tool, arguments: ["words": []], context: ToolRunContext(workspace: workspace))
            Issue.record("a dangling symlink in the workspace was accepted")
        } catch {
            #expect(error.code == .invalidPath)
        }
        #expect(!FileManager.default.fileExists(atPath: target.path))
    }

    @Test func theWorkspaceIsHandedToTheSandboxUser() async throws {
        let tool = try register(extra: "filesystem: {readOnly: [\"${workspace}\"]}")
        let workspace = try Fixtures.directory("ws")
        let sandbox = RecordingSandbox()
        _ = try ToolRunner(registry: registry, sandbox: sandbox).prepare(
            tool, arguments: ["words": []], context: ToolRunContext(workspace: workspace))
        let owner = try FileManager.default.attributesOfItem(atPath: workspace.path)[.ownerAccountID] as? NSNumber
        #expect(owner?.uint32Value == sandbox.hostIdentity.uid)
    }

    @Test func aDriftedExecutableIsRefusedBeforeTheSandboxIsAsked() async throws {
        let tool = try register(extra: "")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.objectURL.path)
        try Data("#!/bin/sh\nexit 0\n".utf8).write(to: tool.objectURL)
        let sandbox = RecordingSandbox()
        do {
            _ = try await ToolRunner(registry: registry, sandbox: sandbox).run(
                tool, arguments: ["words": []], context: ToolRunContext(workspace: nil))
            Issue.record("a drifted executable ran")
        } catch {
            #expect(error.code == .digestMismatch)
            #expect(error.message.contains(tool.manifest.executable.sha256))
        }
        #expect(sandbox.lastSpec == nil)
    }

    @Test func jsonOutputIsParsedOrExplained() async throws {
        let tool = try register(extra: "output: {format: json}")
        let good = try await ToolRunner(registry: registry, sandbox: RecordingSandbox(stdout: #"{"a": 1}"#)).run(
            tool, arguments: ["words": []], context: ToolRunContext(workspace: nil))
        #expect(good.json == ["a": 1] && good.outputProblem == nil)
        let bad = try await ToolRunner(registry: registry, sandbox: RecordingSandbox(stdout: "{oops")).run(
            tool, arguments: ["words": []], context: ToolRunContext(workspace: nil))
        #expect(bad.json == nil)
        #expect(bad.outputProblem?.contains("not valid JSON") == true)
    }
}
