import Agent
import AirlockCore
import Foundation
import RunEvents
import Tools

/// The tool catalog of a replay: the tool versions `run.started` recorded (manifest and pinned
/// digest), the executable digests each `tool.proposed` measured, and the manifests recorded for
/// tools outside the workflow. No registry is read, so a replay works in any home.
public struct RecordedCatalog: ToolCatalog {
    /// The workflow's tools by name, as recorded.
    public let tools: [String: RegisteredTool]
    /// Per call id, the recorded proposal.
    public let proposals: [String: ToolProposed]

    /// Where a recorded tool's executable would be: nowhere (a replay runs nothing).
    static let noExecutable = URL(fileURLWithPath: "/dev/null")

    /// Builds the catalog of a recorded run.
    /// - Throws: ``RunsError`` `invalid-input` naming a manifest this Airlock cannot read.
    public init(started: RunStarted, proposals: [ToolProposed], runID: String) throws(RunsError) {
        var tools: [String: RegisteredTool] = [:]
        for recorded in started.tools {
            tools[recorded.name] = try Self.tool(
                recorded.manifest, label: "\(recorded.name)@\(recorded.version)", runID)
        }
        var byCall: [String: ToolProposed] = [:]
        for proposal in proposals { byCall[proposal.callID] = proposal }
        self.tools = tools
        self.proposals = byCall
    }

    static func tool(_ document: JSONValue, label: String, _ runID: String) throws(RunsError) -> RegisteredTool {
        do {
            let manifest = try ManifestDecoder().decode(document)
            return RegisteredTool(
                manifest: manifest, revision: 0, addedAt: "", sourcePath: "trace:\(runID)", retiredAt: nil,
                objectURL: noExecutable)
        } catch {
            throw RunsError(
                .invalidInput, "run \(runID): the recorded manifest of \(label) cannot be read",
                cause: error)
        }
    }

    public func tool(named name: String) throws(ToolsError) -> RegisteredTool {
        guard let tool = tools[name] else {
            throw ToolsError(.unknownTool, "the run recorded no tool \(name)")
        }
        return tool
    }

    public func unlisted(_ name: String, callID: String) throws(ToolsError) -> RegisteredTool? {
        guard let document = proposals[callID]?.manifest else { return nil }
        do {
            return try Self.tool(document, label: name, "")
        } catch {
            throw ToolsError(.invalidManifest, error.message)
        }
    }

    public func measuredDigest(of tool: RegisteredTool, callID: String) -> String {
        proposals[callID]?.executableSHA256 ?? "missing"
    }
}

/// The tool runner of a replay: hands back, in order, what each allowed call recorded (its
/// execution record and workspace changes, or the error that kept it from running), without
/// running anything. The
/// argv is rendered again from the recorded manifest, and the output mapped by the same
/// ``ToolRunResult`` code as a live run, so a change there shows as a divergence.
public final class RecordedToolSteps: ToolStepRunning {
    /// One recorded outcome of an allowed call.
    public enum Outcome: Sendable, Hashable {
        /// It ran.
        case executed(ToolExecuted)
        /// It could not run (a `tool`-stage error).
        case failed(RunError)
    }

    /// The outcomes in order.
    public let outcomes: RecordedSequence<Outcome>

    /// Creates the stand-in from a run's typed events.
    public init(events: [RunEvent]) {
        outcomes = RecordedSequence(
            events.compactMap { event in
                switch event {
                case .toolExecuted(let executed): .executed(executed)
                case .error(let error) where error.stage == "tool": .failed(error)
                default: nil
                }
            })
    }

    public func perform(
        _ tool: RegisteredTool, arguments: JSONValue, context: ToolRunContext, call: ToolCallIdentity,
        timeLimit: Double?
    ) async throws(ToolStepFailure) -> ToolRunResult {
        switch outcomes.next() {
        case .executed(let executed):
            let argv: [String]
            do {
                argv = try ArgvElement.render(tool.manifest.argv, arguments: arguments)
            } catch {
                throw ToolStepFailure(error)
            }
            var result = ToolRunResult(
                tool: tool.reference, arguments: argv, record: executed.record, manifest: tool.manifest)
            // What the call wrote is handed back as recorded: a replay writes nothing.
            result.workspaceChanges = executed.workspaceChanges.map {
                WorkspaceChanges(changes: $0, cut: executed.workspaceChangesCut)
            }
            result.idempotencyKey = executed.idempotencyKey
            return result
        case .failed(let error):
            throw ToolStepFailure(
                code: error.code ?? "", message: error.summary ?? error.message, description: error.message,
                sandboxUnavailable: error.code == ToolsError.Code.sandbox.rawValue)
        case nil:
            let message =
                "replay: the run recorded \(outcomes.items.count) tool outcomes; the replay ran \(tool.reference) once more"
            throw ToolStepFailure(code: "replay", message: message, description: message, sandboxUnavailable: false)
        }
    }
}
