import AirlockCore
import Sandbox

/// What one run of a tool produced: the sandbox's execution record and the output as the model
/// will see it.
public struct ToolRunResult: Sendable {
    /// The tool and version that ran.
    public var tool: String
    /// The argv after the program, as rendered from the arguments.
    public var arguments: [String]
    /// Everything the sandbox recorded.
    public var record: ExecutionRecord
    /// Standard output, capped at the manifest's `output.maxBytes`; with a secret broker, its
    /// secrets redacted before the cap (``ToolRunner/run(_:arguments:context:call:)``).
    public var output: String
    /// Whether output past the cap was dropped.
    public var outputTruncated: Bool
    /// The end of standard error (at most ``ToolRunner/stderrTailBytes``), redacted before it
    /// was cut: what a failed call's caller is shown.
    public var stderrTail: String = ""
    /// The output parsed as JSON, for `format: json` tools whose output is complete valid JSON.
    public var json: JSONValue?
    /// Why a `format: json` tool's output could not be parsed, if it could not.
    public var outputProblem: String?
    /// What the call did to the run's workspace, for a tool that mounts it writable (`nil` when
    /// the call could not write it).
    public var workspaceChanges: WorkspaceChanges?
    /// The idempotency key the call was handed (``ToolRunner/idempotencyKeyVariable``), or `nil`
    /// when it was given none (an MCP server's tool, a call outside a run).
    public var idempotencyKey: String?

    /// The exit code a shell would report for the tool.
    public var exitCode: Int32 { record.shellExitCode }

    /// The result of a record, as the manifest reads it: stdout as the output, and for a
    /// `format: json` tool that exited 0, its output parsed (or why it could not be). One
    /// mapping serves the live runner and a replay of the recorded record.
    /// - Parameters:
    ///   - tool: `name@version`.
    ///   - arguments: the argv after the program.
    ///   - record: what the sandbox recorded.
    ///   - manifest: the tool's manifest.
    public init(tool: String, arguments: [String], record: ExecutionRecord, manifest: ToolManifest) {
        self.tool = tool
        self.arguments = arguments
        self.record = record
        self.output = record.stdout.text
        self.outputTruncated = record.stdout.truncated
        // The runner replaces this with the tail it redacted before cutting; a replay reads the
        // recorded (already redacted) stream.
        self.stderrTail = String(decoding: record.stderr.bytes.suffix(ToolRunner.stderrTailBytes), as: UTF8.self)
        guard manifest.output.format == .json, record.termination == .exited(0) else { return }
        if record.stdout.truncated {
            outputProblem = "output exceeded \(manifest.output.maxBytes) bytes and was cut; not parsed as JSON"
        } else {
            do {
                json = try JSONParser().parse(record.stdout.bytes)
            } catch {
                outputProblem = "output is not valid JSON: \(error)"
            }
        }
    }
}
