import AirlockCore

/// The first event where a replay and its record part ways.
public struct ReplayDivergence: Sendable, Hashable {
    /// The event's sequence number in the run (as `trace show` numbers it).
    public var seq: Int64
    /// The model step the event belongs to (0 before the first model request).
    public var step: Int64
    /// The recorded event's type, or `nil` when the replay produced more events.
    public var recordedType: String?
    /// The replayed event's type, or `nil` when the replay ended early.
    public var replayedType: String?
    /// The JSON pointer of the first field that differs ("" for the whole payload).
    public var pointer: String
    /// The recorded value at `pointer` (`null` when absent).
    public var recorded: JSONValue
    /// The replayed value at `pointer` (`null` when absent).
    public var replayed: JSONValue

    /// As JSON for `--json`.
    public var json: JSONValue {
        [
            "seq": .integer(seq), "step": .integer(step),
            "recorded_type": recordedType.map(JSONValue.string) ?? .null,
            "replayed_type": replayedType.map(JSONValue.string) ?? .null, "pointer": .string(pointer),
            "recorded": recorded, "replayed": replayed,
        ]
    }
}

/// One proposal whose decision a what-if policy changes.
public struct WhatIfFlip: Sendable, Hashable {
    /// The call id.
    public var callID: String
    /// The model step.
    public var step: Int64
    /// The tool proposed.
    public var tool: String
    /// The recorded effect.
    public var fromEffect: String
    /// The rules that made the recorded decision.
    public var fromRules: [String]
    /// The what-if effect.
    public var toEffect: String
    /// The rules that make the what-if decision.
    public var toRules: [String]

    /// `allow→deny`, `deny→allow`, `allow→ask`, …
    public var kind: String { "\(fromEffect)→\(toEffect)" }

    /// As JSON for `--json`.
    public var json: JSONValue {
        [
            "call_id": .string(callID), "step": .integer(step), "tool": .string(tool), "kind": .string(kind),
            "from": ["decision": .string(fromEffect), "rules": .array(fromRules.map(JSONValue.string))],
            "to": ["decision": .string(toEffect), "rules": .array(toRules.map(JSONValue.string))],
        ]
    }
}

/// What a replay found.
public struct ReplayReport: Sendable, Hashable {
    /// The run replayed.
    public var runID: String
    /// Events in the record.
    public var recordedEvents: Int
    /// Events the replay produced.
    public var replayedEvents: Int
    /// The first divergence, or `nil` when every decision and message came out identical.
    public var divergence: ReplayDivergence?
    /// The policy decisions the replay made (the ones a what-if re-judges).
    public var proposals: Int
    /// With `--policy`: every decision that flips under it.
    public var flips: [WhatIfFlip]
    /// The what-if policy's name, when there was one.
    public var whatIfPolicy: String?

    /// Whether the replay matched its record.
    public var identical: Bool { divergence == nil }

    /// As JSON for `--json`.
    public var json: JSONValue {
        var out: [String: JSONValue] = [
            "run_id": .string(runID), "identical": .bool(identical), "recorded_events": .integer(Int64(recordedEvents)),
            "replayed_events": .integer(Int64(replayedEvents)), "divergence": divergence?.json ?? .null,
            "proposals": .integer(Int64(proposals)),
        ]
        if let whatIfPolicy {
            out["what_if"] = ["policy": .string(whatIfPolicy), "flips": .array(flips.map(\.json))]
        }
        return .object(out)
    }

    /// What a person reads: the verdict, the divergence (its values whole with `full`, else
    /// where they part), the flips.
    public func lines(full: Bool = false) -> [String] {
        var out: [String] = []
        if let divergence {
            out.append(
                "run \(runID): DIVERGED at event \(divergence.seq) (step \(divergence.step)): recorded \(divergence.recordedType ?? "nothing"), replay produced \(divergence.replayedType ?? "nothing")"
            )
            out.append("  at \(divergence.pointer.isEmpty ? "/" : divergence.pointer)")
            let (recorded, replayed) = DifferenceText.pair(divergence.recorded, divergence.replayed, full: full)
            out.append("  recorded: \(recorded)")
            out.append("  replayed: \(replayed)")
        } else {
            out.append("run \(runID): replay identical (\(recordedEvents) events, \(proposals) policy decisions)")
        }
        if let whatIfPolicy {
            out.append("what-if \(whatIfPolicy): \(flips.count) of \(proposals) decisions flip")
            for flip in flips {
                out.append(
                    "  step \(flip.step) \(flip.callID) \(flip.tool): \(flip.kind)  [\(flip.fromRules.joined(separator: ",")) → \(flip.toRules.joined(separator: ","))]"
                )
            }
        }
        return out
    }
}
