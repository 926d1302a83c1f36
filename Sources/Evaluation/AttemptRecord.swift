import Foundation
import Replay
import RunEvents
import Runs

/// What one attempt did, read back from its verified trace: the checks judge this, never the
/// run's in-memory outcome, so that what the report says is what a reviewer finds in the record.
public struct AttemptRecord: Sendable, Hashable, Codable {
    /// The run's id in the trace (`airlock trace show RUN`).
    public var runID: String
    /// `run.finished`'s status.
    public var status: String
    /// `run.finished`'s message.
    public var message: String
    /// The final answer, if the model gave one.
    public var answer: String?
    /// What made the final answer degenerate, as `run.finished` records it (`empty`, `repetition`).
    public var degenerate: String?
    /// Model requests made.
    public var steps: Int
    /// Calls proposed.
    public var toolCalls: Int
    /// Calls that ran.
    public var executed: Int
    /// Calls refused (policy, approval, budget, a call that could not run).
    public var refused: Int
    /// Prompt tokens the model server reported, summed over the run's requests.
    public var inputTokens: Int64
    /// Generated tokens the model server reported, summed over the run's requests.
    public var outputTokens: Int64
    /// Seconds from `run.started` to `run.finished`, on the trace's clock.
    public var seconds: Double
    /// The tools proposed, in order (a tool once per proposal).
    public var proposed: [String]
    /// The tools that ran, in order.
    public var ran: [String]
    /// The text the run's calls wrote into its workspace (each created or modified file's
    /// recorded content, in order).
    public var written: [String]

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case status, message, answer, degenerate, steps
        case toolCalls = "tool_calls"
        case executed, refused
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case seconds, proposed, ran, written
    }

    /// Reads an attempt from its recorded run.
    /// - Throws: ``RunsError`` `state` when the record does not decode or has no end.
    public init(_ run: RecordedRun) throws(RunsError) {
        let events: [RunEvent]
        do {
            events = try run.typedEvents()
        } catch {
            throw RunsError(.state, "run \(run.runID): its record does not read", cause: error)
        }
        runID = run.runID
        var finished: RunFinished?
        var input: Int64 = 0
        var output: Int64 = 0
        var proposed: [String] = []
        var ran: [String] = []
        var written: [String] = []
        var refused = 0
        // `tool.executed` names the tool with its version; the proposal names it as offered.
        var toolOfCall: [String: String] = [:]
        for event in events {
            switch event {
            case .modelResponse(let response):
                input += response.usage.inputTokens ?? 0
                output += response.usage.outputTokens ?? 0
            case .toolProposed(let proposal):
                proposed.append(proposal.tool)
                toolOfCall[proposal.callID] = proposal.tool
            case .toolExecuted(let execution):
                ran.append(toolOfCall[execution.callID] ?? execution.tool)
                for change in execution.workspaceChanges ?? [] where change.change != .removed {
                    if let content = change.content { written.append(content) }
                }
            case .toolResult(let result): if result.refused == true { refused += 1 }
            case .finished(let end): finished = end
            default: break
            }
        }
        guard let finished else {
            throw RunsError(.state, "run \(run.runID) has no run.finished: it did not end (`airlock trace show`)")
        }
        status = finished.status
        message = finished.message
        answer = finished.answer
        degenerate = finished.degenerate
        steps = finished.steps
        toolCalls = finished.toolCalls
        executed = finished.executed
        self.refused = refused
        inputTokens = input
        outputTokens = output
        let times = run.events.map(\.time)
        seconds = Double((times.last ?? 0) - (times.first ?? 0)) / 1e9
        self.proposed = proposed
        self.ran = ran
        self.written = written
    }
}
