import AirlockCore
import Policy
import RunEvents
import Tools
import Trace

/// `--reexecute`: every call the run executed, run again in the sandbox against the recorded tool
/// version (or the current one), its exit status and output compared with the record.
public struct Reexecution: Sendable {
    /// One call run again.
    public struct Call: Sendable, Hashable {
        /// The call id.
        public var callID: String
        /// The tool version recorded (`name@version`).
        public var recordedTool: String
        /// The tool version run now, or `nil` when none could be resolved.
        public var ranTool: String?
        /// The recorded exit code.
        public var recordedExit: Int64
        /// The exit code now, or `nil` when the call could not run.
        public var exit: Int64?
        /// The recorded stdout.
        public var recordedOutput: String
        /// Stdout now (or why the call could not run).
        public var output: String

        /// Whether the exit status and output are the recorded ones.
        public var same: Bool { exit == recordedExit && output == recordedOutput && ranTool != nil }

        /// As JSON for `--json`.
        public var json: JSONValue {
            [
                "call_id": .string(callID), "recorded_tool": .string(recordedTool),
                "ran_tool": ranTool.map(JSONValue.string) ?? .null, "recorded_exit": .integer(recordedExit),
                "exit": exit.map(JSONValue.integer) ?? .null, "same": .bool(same),
                "recorded_output": .string(recordedOutput), "output": .string(output),
            ]
        }
    }

    /// The run.
    public var runID: String
    /// Every executed call, in order.
    public var calls: [Call]

    /// Whether every call behaved as recorded.
    public var same: Bool { calls.allSatisfy(\.same) }

    /// The run id the tokens of a re-executed call name (`reexecute:RUN`): a re-execution does the
    /// call's work again, and a service that sees its token can tell it from the original run's.
    public static func tokenRunID(_ runID: String) -> String { "reexecute:\(runID)" }

    /// Runs the recorded calls again.
    /// - Parameters:
    ///   - run: the verified record.
    ///   - runner: the tool runner (the real sandbox: nothing runs outside it).
    ///   - context: the workspace and datasets.
    ///   - current: run the current version of each tool instead of the recorded one (default false).
    ///
    /// A call's secrets are delivered as in the run, its tokens bound to ``tokenRunID(_:)`` and the
    /// call's argument digest; its output goes through the runner's redactor before it is compared
    /// with the record (which holds it redacted) or shown.
    /// - Throws: ``ReplayError`` when a payload's blob is missing.
    public init(_ run: RecordedRun, runner: ToolRunner, context: ToolRunContext, current: Bool = false)
        async throws(ReplayError)
    {
        runID = run.runID
        var arguments: [String: JSONValue] = [:]
        var calls: [Call] = []
        for event in try run.typedEvents() {
            if case .toolProposed(let proposal) = event {
                arguments[proposal.callID] = proposal.arguments
                continue
            }
            guard case .toolExecuted(let executed) = event else { continue }
            let (id, reference) = (executed.callID, executed.tool)
            var call = Call(
                callID: id, recordedTool: reference, ranTool: nil, recordedExit: Int64(executed.exitCode), exit: nil,
                recordedOutput: executed.record.stdout.text, output: "")
            let name = String(reference.prefix { $0 != "@" })
            do throws(ToolsError) {
                let tool = try runner.registry.resolve(current ? name : reference)
                call.ranTool = tool.reference
                let args = arguments[id] ?? .null
                let identity = ToolCallIdentity(
                    runID: Self.tokenRunID(run.runID),
                    argumentsDigest: ArgumentDigest.digest(tool: name, arguments: args))
                let result = try await runner.run(tool, arguments: args, context: context, call: identity)
                call.exit = Int64(result.exitCode)
                let output = result.record.stdout.text
                call.output = runner.secrets?.redactor.redacted(output) ?? output
            } catch {
                call.output = "could not run: \(error)"
            }
            calls.append(call)
        }
        self.calls = calls
    }

    /// What a person reads: one line per call (a changed output whole with `full`, else where
    /// it parts from the record), then the verdict.
    public func lines(full: Bool = false) -> [String] {
        var out: [String] = []
        for call in calls {
            let tool =
                call.ranTool.map { $0 == call.recordedTool ? $0 : "\(call.recordedTool) → \($0)" } ?? call.recordedTool
            if call.same {
                out.append("  \(call.callID) \(tool): same (exit \(call.recordedExit))")
            } else {
                out.append(
                    "  \(call.callID) \(tool): CHANGED exit \(call.recordedExit) → \(call.exit.map(String.init) ?? "-")"
                )
                let (recorded, now) = DifferenceText.pair(text: call.recordedOutput, call.output, full: full)
                out.append("    recorded: \(recorded)")
                out.append("    now:      \(now)")
            }
        }
        let changed = calls.filter { !$0.same }.count
        out.append("re-execution of \(runID): \(calls.count) call(s), \(changed) changed")
        return out
    }

    /// As JSON for `--json`.
    public var json: JSONValue {
        ["run_id": .string(runID), "same": .bool(same), "calls": .array(calls.map(\.json))]
    }
}
