import AirlockCore
import Policy
import Trace

/// What-if over many runs: the table a security team reads before rolling out a policy change.
public struct WhatIfSummary: Sendable, Hashable {
    /// Runs replayed.
    public var runs = 0
    /// Runs that could not be replayed, with why (`run: reason`).
    public var skipped: [String] = []
    /// Runs whose replay diverged from the record (their flips count up to the divergence).
    public var diverged: [String] = []
    /// Policy decisions re-judged.
    public var proposals = 0
    /// Every flip, with its run.
    public var flips: [(run: String, flip: WhatIfFlip)] = []

    /// An empty summary.
    public init() {}

    /// Replays every stored run `include` accepts (review chains never), under `policy` as well,
    /// and sums the flips: `airlock replay --all --policy` and the console's what-if. A run that
    /// cannot be replayed (it does not verify, an earlier schema) is listed as skipped, with why.
    /// - Throws: ``ReplayError`` `trace` when the runs cannot be listed.
    public static func judging(
        _ store: TraceStore, trustedKeys: [TracePublicKey], policy: Policy?,
        include: (TraceRunSummary) -> Bool = { _ in true }
    ) async throws(ReplayError) -> WhatIfSummary {
        let runs: [TraceRunSummary]
        do {
            runs = try store.runs()
        } catch {
            throw ReplayError(.trace, "cannot list runs in \(store.path)", cause: error.description)
        }
        let replayer = Replayer()
        var summary = WhatIfSummary()
        for stored in runs where stored.workflow != ReviewVerdict.workflow && include(stored) {
            do throws(ReplayError) {
                let recorded = try RecordedRun(runID: stored.runID, store: store, trustedKeys: trustedKeys)
                summary.add(try await replayer.replay(recorded, whatIf: policy))
            } catch {
                summary.skipped.append("\(stored.runID): \(error)")
            }
        }
        return summary
    }

    /// Adds one run's report.
    public mutating func add(_ report: ReplayReport) {
        runs += 1
        proposals += report.proposals
        if !report.identical { diverged.append(report.runID) }
        flips += report.flips.map { (report.runID, $0) }
    }

    /// Flip counts by `kind`, by tool, and by rule (each rule on either side of a flip).
    public var byKind: [String: Int] { count { [$0.kind] } }
    /// Flip counts by tool.
    public var byTool: [String: Int] { count { [$0.tool] } }
    /// Flip counts by rule, on either side.
    public var byRule: [String: Int] { count { Array(Set($0.fromRules + $0.toRules)) } }

    private func count(_ keys: (WhatIfFlip) -> [String]) -> [String: Int] {
        var out: [String: Int] = [:]
        for (_, flip) in flips { for key in keys(flip) { out[key, default: 0] += 1 } }
        return out
    }

    /// As JSON for `--json`.
    public var json: JSONValue {
        func object(_ counts: [String: Int]) -> JSONValue { .object(counts.mapValues { .integer(Int64($0)) }) }
        return [
            "runs": .integer(Int64(runs)), "proposals": .integer(Int64(proposals)),
            "flips": .array(
                flips.map { item in
                    var json = item.flip.json
                    if case .object(var fields) = json {
                        fields["run_id"] = .string(item.run)
                        json = .object(fields)
                    }
                    return json
                }),
            "by_kind": object(byKind), "by_tool": object(byTool), "by_rule": object(byRule),
            "diverged": .array(diverged.map(JSONValue.string)), "skipped": .array(skipped.map(JSONValue.string)),
        ]
    }

    /// The summary table.
    public var lines: [String] {
        var out = [
            "runs \(runs)  proposals \(proposals)  flips \(flips.count)  diverged \(diverged.count)  skipped \(skipped.count)"
        ]
        for (title, counts) in [("kind", byKind), ("tool", byTool), ("rule", byRule)] where !counts.isEmpty {
            out.append("flips by \(title):")
            for (key, value) in counts.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
                out.append("  \(key.padding(toLength: 36, withPad: " ", startingAt: 0)) \(value)")
            }
        }
        for run in diverged { out.append("diverged: \(run) (run `airlock replay \(run)`)") }
        for reason in skipped { out.append("skipped: \(reason)") }
        return out
    }

    /// Compares counts and flips.
    public static func == (a: WhatIfSummary, b: WhatIfSummary) -> Bool {
        a.json == b.json
    }

    /// Hashes what `==` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(json.canonicalString)
    }
}
