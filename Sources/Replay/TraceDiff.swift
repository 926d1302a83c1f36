import AirlockCore
import RunEvents
import Trace

/// Two verified runs compared from their typed records: a summary of what each was set up with
/// and how it ended, then every pair of corresponding events with each field where they differ.
///
/// Calls are aligned by tool and canonical arguments (longest common subsequence, so key order
/// and an extra call do not shift the rest); the events of an aligned call are paired type by
/// type, model requests and responses step by step, errors in order, `run.started` and
/// `run.finished` with each other. Each pair is compared with ``JSONDifference/all(_:_:pointer:skipping:)``
/// outside the fields of ``ignoredFields``, and the run's workspace path reads as `${workspace}`.
public struct TraceDiff: Sendable, Hashable {
    /// One of the two runs.
    public enum Side: String, Sendable, Hashable {
        /// The first run given.
        case a
        /// The second run given.
        case b
    }

    /// One fact of a run's setup or outcome, on both sides.
    public struct Fact: Sendable, Hashable {
        /// `answer`, `status`, `model`, `parameters`, `workflow`, `policy` or `tools`.
        public var name: String
        /// A's value (`null` when it has none, such as a run that gave no answer).
        public var a: JSONValue
        /// B's value.
        public var b: JSONValue

        /// Whether the two are the same.
        public var same: Bool { a == b }

        /// As JSON for `--json`: `{"same", "a", "b"}`, whole values.
        public var json: JSONValue { ["same": .bool(same), "a": a, "b": b] }
    }

    /// One event of one run against its counterpart in the other (or against nothing).
    public struct EventDifference: Sendable, Hashable {
        /// The event type (`tool.result`, …).
        public var type: String
        /// The model step of A's event, or `nil` when only B has it.
        public var stepA: Int?
        /// The model step of B's event, or `nil` when only A has it.
        public var stepB: Int?
        /// The call the event belongs to (tool and canonical arguments), if it belongs to one.
        public var call: String?
        /// The run that alone has the event, or `nil` when both have it.
        public var onlyIn: Side?
        /// Every differing field; for an event only one run has, one change at "" whose other
        /// side is absent.
        public var changes: [JSONDifference.Change]

        /// As JSON for `--json`: whole values, nothing cut.
        public var json: JSONValue {
            var out: [String: JSONValue] = [
                "type": .string(type), "step_a": stepA.map { .integer(Int64($0)) } ?? .null,
                "step_b": stepB.map { .integer(Int64($0)) } ?? .null, "call": call.map(JSONValue.string) ?? .null,
                "changes": .array(changes.map(\.json)),
            ]
            if let onlyIn { out["only_in"] = .string(onlyIn.rawValue) }
            return .object(out)
        }
    }

    /// Run A's id.
    public var runA: String
    /// Run B's id.
    public var runB: String
    /// Calls A proposed.
    public var callsA: Int
    /// Calls B proposed.
    public var callsB: Int
    /// The facts compared, in a fixed order: answer, status, model, parameters, workflow, policy, tools.
    public var summary: [Fact]
    /// The events that differ, in run order.
    public var events: [EventDifference]
    /// How many events (pairs, or events only one run has) were compared.
    public var comparedEvents: Int

    /// Whether nothing compared differs.
    public var identical: Bool { summary.allSatisfy(\.same) && events.isEmpty }

    /// Compares two runs.
    /// - Parameters:
    ///   - a: one verified run.
    ///   - b: the other.
    /// - Throws: ``ReplayError`` `malformed-record` when a run's events do not decode as run
    ///   events of this Airlock's schema, or a blob they reference is missing.
    public init(_ a: RecordedRun, _ b: RecordedRun) throws(ReplayError) {
        let left = try Reading(a)
        let right = try Reading(b)
        runA = a.runID
        runB = b.runID
        callsA = left.calls.count
        callsB = right.calls.count
        summary = Self.facts(left, right)

        // Each call's place in the alignment names its events' slots on both sides.
        var placeA = [Int](repeating: 0, count: left.calls.count)
        var placeB = [Int](repeating: 0, count: right.calls.count)
        for (place, pair) in Self.align(left.calls, right.calls).enumerated() {
            if let x = pair.0 { placeA[x.index] = place }
            if let y = pair.1 { placeB[y.index] = place }
        }
        let slotsA = left.slots(places: placeA)
        let slotsB = right.slots(places: placeB)
        let byKeyA = Dictionary(slotsA.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let byKeyB = Dictionary(slotsB.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })

        var out: [EventDifference] = []
        let order = Self.merge(slotsA.map(\.key), slotsB.map(\.key))
        for key in order {
            let x = byKeyA[key]
            let y = byKeyB[key]
            guard let any = x ?? y else { continue }
            var difference = EventDifference(
                type: any.type.rawValue, stepA: x?.step, stepB: y?.step, call: any.call, onlyIn: nil, changes: [])
            switch (x, y) {
            case (let x?, let y?):
                difference.changes = JSONDifference.all(x.payload, y.payload) { Self.isIgnored(any.type, $0) }
            case (let x?, nil):
                difference.onlyIn = .a
                difference.changes = [JSONDifference.Change(pointer: "", a: x.payload, b: nil)]
            case (nil, let y?):
                difference.onlyIn = .b
                difference.changes = [JSONDifference.Change(pointer: "", a: nil, b: y.payload)]
            case (nil, nil):
                continue
            }
            if !difference.changes.isEmpty { out.append(difference) }
        }
        events = out
        comparedEvents = order.count
    }

    /// The summary facts of two runs.
    static func facts(_ a: Reading, _ b: Reading) -> [Fact] {
        func facts(_ run: Reading) -> [(String, JSONValue)] {
            let started = run.started
            let model = (try? JSONValueEncoder().encode(started.model)) ?? .null
            var tools: [String: JSONValue] = [:]
            for tool in started.tools { tools["\(tool.name)@\(tool.version)"] = .string(tool.executableSHA256) }
            return [
                ("answer", run.finished?.answer.map(JSONValue.string) ?? .null),
                ("status", run.finished.map { .string($0.status) } ?? .null),
                ("model", model),
                ("parameters", .object(started.parameters)),
                ("workflow", ["name": .string(started.workflow), "sha256": .string(started.workflowFile.sha256)]),
                ("policy", ["name": .string(started.policy.name), "sha256": .string(started.policy.sha256)]),
                ("tools", .object(tools)),
            ]
        }
        return zip(facts(a), facts(b)).map { Fact(name: $0.0, a: $0.1, b: $1.1) }
    }

    /// One proposed call, as the alignment sees it.
    struct Call: Sendable, Hashable {
        /// Its position among the run's proposals.
        var index: Int
        /// The call's id in its run.
        var callID: String
        /// The step it was proposed at.
        var step: Int
        /// Tool and arguments: canonical JSON, or the raw text when they were not JSON.
        var key: String
    }

    /// Where an event sits, the same on both sides for events that correspond.
    enum SlotKey: Hashable {
        case started
        /// A model request or response: its step, and which one of that type at that step.
        case model(step: Int, type: TraceEventType, ordinal: Int)
        /// An event of a call: the call's place in the alignment, and which one of that type.
        case call(place: Int, type: TraceEventType, ordinal: Int)
        /// Another event (an error, or a call event whose proposal is not recorded), in order.
        case other(type: TraceEventType, ordinal: Int)
        case finished
    }

    /// One event with its slot.
    struct Slot {
        var key: SlotKey
        var type: TraceEventType
        var step: Int
        var call: String?
        var payload: JSONValue
    }

    /// A run's typed record, read once.
    struct Reading {
        var started: RunStarted
        var events: [RunEvent]
        var finished: RunFinished?
        var calls: [Call]

        init(_ run: RecordedRun) throws(ReplayError) {
            started = try run.started()
            events = try run.typedEvents()
            var calls: [Call] = []
            for event in events {
                switch event {
                case .toolProposed(let proposal):
                    let arguments = proposal.argumentsText ?? proposal.arguments.canonicalString
                    calls.append(
                        Call(
                            index: calls.count, callID: proposal.callID, step: proposal.step,
                            key: proposal.tool + " " + arguments))
                case .finished(let finished):
                    self.finished = finished
                default:
                    break
                }
            }
            self.calls = calls
        }

        /// Every event in order with its slot; `places` gives each proposal (by its index) its
        /// place in the alignment.
        func slots(places: [Int]) -> [Slot] {
            let workspace = started.context.workspace
            // A call's later events belong to the latest proposal with its id (a model may
            // reuse an id).
            var open: [String: (call: Call, place: Int)] = [:]
            var proposals = 0
            var seen: [SlotKey: Int] = [:]
            func next(_ key: (Int) -> SlotKey) -> SlotKey {
                let base = key(0)
                let ordinal = seen[base, default: 0]
                seen[base] = ordinal + 1
                return key(ordinal)
            }
            var step = 0
            var out: [Slot] = []
            for event in events {
                let type = event.type
                var call: Call?
                let key: SlotKey
                switch event {
                case .started:
                    key = .started
                case .modelRequest(let request):
                    step = request.step
                    key = next { .model(step: request.step, type: type, ordinal: $0) }
                case .modelResponse(let response):
                    key = next { .model(step: response.step, type: type, ordinal: $0) }
                case .finished:
                    key = .finished
                default:
                    if case .toolProposed(let proposal) = event, proposals < calls.count, proposals < places.count {
                        open[proposal.callID] = (calls[proposals], places[proposals])
                        proposals += 1
                    }
                    if let id = event.callID, let (proposed, place) = open[id] {
                        call = proposed
                        key = next { .call(place: place, type: type, ordinal: $0) }
                    } else {
                        key = next { .other(type: type, ordinal: $0) }
                    }
                }
                out.append(
                    Slot(
                        key: key, type: type, step: call?.step ?? step, call: call?.key,
                        payload: Self.reading(event.payload, workspace: workspace)))
            }
            return out
        }

        /// `value` with the run's workspace path read as `${workspace}`: each run has a workspace
        /// of its own, and where its path appears (the workspace mount, a path a tool printed)
        /// it means the same thing in both.
        static func reading(_ value: JSONValue, workspace: String?) -> JSONValue {
            guard let workspace, !workspace.isEmpty else { return value }
            switch value {
            case .string(let text): return .string(text.replacing(workspace, with: "${workspace}"))
            case .array(let items): return .array(items.map { reading($0, workspace: workspace) })
            case .object(let fields): return .object(fields.mapValues { reading($0, workspace: workspace) })
            default: return value
            }
        }
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

    /// Both runs' slots in one order that keeps each run's own: A's up to each slot B shares
    /// with it, and between two shared slots A's own before B's own.
    static func merge(_ a: [SlotKey], _ b: [SlotKey]) -> [SlotKey] {
        let inA = Set(a)
        let inB = Set(b)
        var emitted: Set<SlotKey> = []
        var out: [SlotKey] = []
        var i = 0
        func emit(_ key: SlotKey) {
            if emitted.insert(key).inserted { out.append(key) }
        }
        for key in b {
            if inA.contains(key) {
                while i < a.count, !emitted.contains(key) {
                    emit(a[i])
                    i += 1
                }
            } else {
                while i < a.count, !inB.contains(a[i]) {
                    emit(a[i])
                    i += 1
                }
            }
            emit(key)
        }
        while i < a.count {
            emit(a[i])
            i += 1
        }
        return out
    }

    /// As JSON for `--json`: whole values, nothing cut.
    public var json: JSONValue {
        var facts: [String: JSONValue] = [:]
        for fact in summary { facts[fact.name] = fact.json }
        return [
            "run_a": .string(runA), "run_b": .string(runB), "identical": .bool(identical),
            "calls_a": .integer(Int64(callsA)), "calls_b": .integer(Int64(callsB)),
            "compared_events": .integer(Int64(comparedEvents)), "summary": .object(facts),
            "events": .array(events.map(\.json)),
        ]
    }
}
