import AirlockCore
import Trace

/// Two runs aligned call by call (tool and canonical arguments, longest common subsequence), with
/// every point where their prompt, a proposal, a decision or an output differ, first one first.
public struct TraceDiff: Sendable, Hashable {
    /// One proposed call as the diff sees it.
    public struct Call: Sendable, Hashable {
        /// The model step.
        public var step: Int64
        /// The call id.
        public var callID: String
        /// The tool.
        public var tool: String
        /// The arguments in canonical form (sorted keys), or the raw text when they were not JSON.
        public var arguments: String
        /// The last decision (`allow`, `ask`, `deny`) and its rules.
        public var decision: String
        /// What the model was told (`tool.result` content), or `nil` when the run ended first.
        public var output: String?
        /// What the sandbox recorded (`exit N: stdout`), or `nil` when the call did not run.
        public var execution: String?

        /// Alignment key: tool and normalised arguments.
        var key: String { tool + " " + arguments }
    }

    /// One difference.
    public struct Difference: Sendable, Hashable {
        /// `prompt`, `proposal` (a call only one run made), `decision` or `output`.
        public var aspect: String
        /// The step in run A, or `nil` when only B has it.
        public var stepA: Int64?
        /// The step in run B, or `nil` when only A has it.
        public var stepB: Int64?
        /// What A has (empty when nothing).
        public var a: String
        /// What B has (empty when nothing).
        public var b: String

        /// As JSON for `--json`.
        public var json: JSONValue {
            [
                "aspect": .string(aspect), "step_a": stepA.map(JSONValue.integer) ?? .null,
                "step_b": stepB.map(JSONValue.integer) ?? .null, "a": .string(a), "b": .string(b),
            ]
        }
    }

    /// Run A's id.
    public var runA: String
    /// Run B's id.
    public var runB: String
    /// Calls in A and in B.
    public var callsA: Int
    /// Calls in B.
    public var callsB: Int
    /// Every difference, in run order; the first is where the runs part ways.
    public var differences: [Difference]

    /// Compares two runs.
    /// - Parameters:
    ///   - a: one verified run.
    ///   - b: the other.
    /// - Throws: ``ReplayError`` when a blob the payloads reference is missing.
    public init(_ a: RecordedRun, _ b: RecordedRun) throws(ReplayError) {
        runA = a.runID
        runB = b.runID
        let (promptA, left) = try Self.calls(of: a)
        let (promptB, right) = try Self.calls(of: b)
        callsA = left.count
        callsB = right.count
        var out: [Difference] = []
        if promptA != promptB {
            out.append(Difference(aspect: "prompt", stepA: 1, stepB: 1, a: promptA, b: promptB))
        }
        for (x, y) in Self.align(left, right) {
            switch (x, y) {
            case (let x?, let y?):
                if x.decision != y.decision {
                    out.append(
                        Difference(aspect: "decision", stepA: x.step, stepB: y.step, a: x.decision, b: y.decision))
                } else if x.execution != y.execution {
                    out.append(
                        Difference(
                            aspect: "output", stepA: x.step, stepB: y.step, a: x.execution ?? "", b: y.execution ?? ""))
                } else if x.output != y.output {
                    out.append(
                        Difference(aspect: "output", stepA: x.step, stepB: y.step, a: x.output ?? "", b: y.output ?? "")
                    )
                }
            case (let x?, nil):
                out.append(Difference(aspect: "proposal", stepA: x.step, stepB: nil, a: x.key, b: ""))
            case (nil, let y?):
                out.append(Difference(aspect: "proposal", stepA: nil, stepB: y.step, a: "", b: y.key))
            case (nil, nil):
                break
            }
        }
        differences = out
    }

    /// The run's first prompt (system prompt and task) and its calls in order.
    static func calls(of run: RecordedRun) throws(ReplayError) -> (String, [Call]) {
        var prompt = ""
        var calls: [Call] = []
        var index: [String: Int] = [:]
        for event in run.events {
            let payload = try run.resolve(event.payload, seq: event.seq)
            let id = payload["call_id"]?.stringValue ?? ""
            switch event.type {
            case TraceEventType.modelRequest.rawValue where prompt.isEmpty:
                prompt = (payload["messages"]?.arrayValue ?? []).compactMap { $0["content"]?.stringValue }
                    .joined(separator: "\n")
            case TraceEventType.toolProposed.rawValue:
                let arguments =
                    payload["arguments_text"]?.stringValue ?? (payload["arguments"] ?? .null).canonicalString
                index[id] = calls.count
                calls.append(
                    Call(
                        step: payload["step"]?.integerValue ?? 0, callID: id, tool: payload["tool"]?.stringValue ?? "",
                        arguments: arguments, decision: "", output: nil, execution: nil))
            case TraceEventType.policyDecision.rawValue:
                guard let at = index[id] else { continue }
                let rules = (payload["rules"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
                calls[at].decision = (payload["decision"]?.stringValue ?? "") + " [" + rules + "]"
            case TraceEventType.toolExecuted.rawValue:
                guard let at = index[id] else { continue }
                let exit = payload["exit_code"]?.integerValue.map(String.init) ?? "?"
                calls[at].execution = "exit \(exit): " + (payload["record"]?["stdout"]?["text"]?.stringValue ?? "")
            case TraceEventType.toolResult.rawValue:
                guard let at = index[id] else { continue }
                calls[at].output = payload["content"]?.stringValue
            default:
                break
            }
        }
        return (prompt, calls)
    }

    /// Longest-common-subsequence alignment on the calls' keys.
    static func align(_ a: [Call], _ b: [Call]) -> [(Call?, Call?)] {
        let n = a.count
        let m = b.count
        var table = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                table[i][j] = a[i].key == b[j].key ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var out: [(Call?, Call?)] = []
        var i = 0
        var j = 0
        while i < n || j < m {
            if i < n, j < m, a[i].key == b[j].key {
                out.append((a[i], b[j]))
                i += 1
                j += 1
            } else if j >= m || (i < n && table[i + 1][j] >= table[i][j + 1]) {
                out.append((a[i], nil))
                i += 1
            } else {
                out.append((nil, b[j]))
                j += 1
            }
        }
        return out
    }

    /// As JSON for `--json`.
    public var json: JSONValue {
        [
            "run_a": .string(runA), "run_b": .string(runB), "calls_a": .integer(Int64(callsA)),
            "calls_b": .integer(Int64(callsB)), "identical": .bool(differences.isEmpty),
            "differences": .array(differences.map(\.json)),
        ]
    }

    /// What a person reads: the first difference, then the rest.
    public var lines: [String] {
        guard let first = differences.first else {
            return ["\(runA) and \(runB): no difference in prompt, proposals, decisions or outputs (\(callsA) calls)"]
        }
        var out = ["\(runA) (A, \(callsA) calls) vs \(runB) (B, \(callsB) calls): \(differences.count) difference(s)"]
        out.append("first: \(Self.describe(first))")
        for difference in differences.dropFirst() { out.append("then:  \(Self.describe(difference))") }
        return out
    }

    static func describe(_ d: Difference) -> String {
        let where_ = "step \(d.stepA.map(String.init) ?? "-")/\(d.stepB.map(String.init) ?? "-")"
        return
            "\(d.aspect) at \(where_)\n    A: \(ReplayReport.clip(d.a.isEmpty ? "(none)" : d.a))\n    B: \(ReplayReport.clip(d.b.isEmpty ? "(none)" : d.b))"
    }
}
