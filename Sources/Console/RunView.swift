import AirlockCore
import Model
import Replay
import RunEvents
import Trace

/// One run as a reviewer looks at it: its summary, whether it verifies, its verdicts and its
/// timeline, each event in the lane of the part of Airlock that produced it and with its whole
/// stored content. The one view model `trace show` (text), `trace report` (a self-contained HTML
/// file) and the console's run page (HTML) render.
public struct RunView: Sendable {
    /// The part of a run an event belongs to: a column of the timeline.
    public enum Lane: String, Sendable, Hashable, CaseIterable {
        /// The run's start, end and errors.
        case run
        /// Requests to the model and its answers.
        case model
        /// Proposals and the policy's decisions on them.
        case policy
        /// Approval requests and their answers.
        case approval
        /// Executions in the sandbox and what went back to the model.
        case tool

        /// The lane of an event type (an unknown type belongs to the run).
        public init(eventType: String) {
            switch TraceEventType(rawValue: eventType) {
            case .modelRequest, .modelResponse: self = .model
            case .toolProposed, .policyDecision: self = .policy
            case .approvalRequested, .approvalGranted, .approvalDenied: self = .approval
            case .toolExecuted, .toolResult: self = .tool
            case .runStarted, .runFinished, .error, nil: self = .run
            }
        }
    }

    /// One event of the timeline.
    public struct Event: Sendable, Hashable {
        /// The timeline's entry: sequence number, type, offset, one-line summary, detail lines.
        public var entry: TraceTimeline.Entry
        /// The lane it is drawn in.
        public var lane: Lane
        /// The stored payload with blob references replaced by their text: what the event holds, as
        /// stored (secrets already redacted by the recorder).
        public var content: JSONValue
        /// The parts of ``content`` a reviewer reads whole (``RunView/texts(type:content:seq:skipping:)``).
        public var texts: [Text]
        /// Whether a rendering shows ``content`` as JSON as well: not for a request to the model,
        /// whose content is its messages, shown as texts (`trace show --json` prints it whole).
        public var contentShown: Bool
    }

    /// The run's metadata.
    public var summary: TraceRunSummary
    /// The offline verification of its chain and checkpoints.
    public var verification: RunVerification
    /// The reviewers' verdicts on it, each checked.
    public var verdicts: [ReviewVerdict]
    /// The timeline (`trace show --json` prints it as it is).
    public var timeline: TraceTimeline
    /// The events, in sequence order, with lanes and contents.
    public var events: [Event]

    /// Builds the view of a bundle.
    /// - Parameters:
    ///   - bundle: the run as stored.
    ///   - trustedKeys: the keys its checkpoints may be signed by.
    ///   - verdicts: the verdicts on it (``ReviewVerdict/all(in:trustedKeys:)``).
    ///   - maxInlineCharacters: the clipping of the timeline's summaries and detail lines.
    /// - Throws: ``TraceError`` `corrupt` when a body is not JSON.
    public init(
        bundle: TraceRunBundle, trustedKeys: [TracePublicKey], verdicts: [ReviewVerdict],
        maxInlineCharacters: Int = 160
    ) throws(TraceError) {
        summary = bundle.summary
        verification = TraceVerifier(trustedKeys: trustedKeys).verify(bundle)
        self.verdicts = verdicts
        timeline = try TraceTimeline(bundle, maxInlineCharacters: maxInlineCharacters)
        // Each request to the model resends the conversation so far: its texts show only the
        // messages after those of the request before (when they are a prefix of it), so that a long
        // run's page grows with the run, not with its square.
        var previous: (seq: Int64, messages: [ChatMessage])?
        events = timeline.entries.map { entry in
            // A missing blob (a tampered store) keeps its reference: the banner already says so.
            let content = TraceBlobs.resolving(entry.payload, blobs: bundle.blobs) {
                (_, reference) throws(Never) in reference
            }
            var skipped: (count: Int, seq: Int64)?
            if entry.type == TraceEventType.modelRequest.rawValue,
                let request = try? ModelRequest.decode(content, seq: entry.seq)
            {
                if let previous, !previous.messages.isEmpty, request.messages.starts(with: previous.messages) {
                    skipped = (previous.messages.count, previous.seq)
                }
                previous = (entry.seq, request.messages)
            }
            return Event(
                entry: entry, lane: Lane(eventType: entry.type), content: content,
                texts: Self.texts(type: entry.type, content: content, seq: entry.seq, skipping: skipped),
                contentShown: entry.type != TraceEventType.modelRequest.rawValue)
        }
    }

    /// The verification in one line, with the warning a reader needs first when the run is not
    /// evidence: `verified: …`, `!! NOT FINISHED: …`, `!! DOES NOT VERIFY — …`.
    public var banner: String {
        switch verification.status {
        case .intact: "verified: \(verification.summary)"
        case .incomplete: "!! NOT FINISHED: \(verification.summary)"
        case .broken: "!! DOES NOT VERIFY — what follows is not evidence: \(verification.summary)"
        }
    }

    /// `run ID: STATUS, workflow W, principal P`.
    public var heading: String {
        "run \(summary.runID): \(summary.status), workflow \(summary.workflow), principal \(summary.principal)"
    }

    /// The text rendering `airlock trace show` prints: the banner, the heading, the verdicts, then
    /// the timeline.
    /// - Parameter time: how a verdict's time (ns since 1970) is written.
    public func text(time: (Int64) -> String) -> String {
        let reviews = verdicts.map { "verdict: \($0.summary) [\(time($0.at))]\n" }.joined()
        return banner + "\n" + heading + "\n" + reviews + timeline.text
    }
}
