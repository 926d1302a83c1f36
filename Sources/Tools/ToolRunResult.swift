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

    /// The exit code a shell would report for the tool.
    public var exitCode: Int32 { record.shellExitCode }
}
