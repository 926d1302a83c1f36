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
        /// Whether a rendering shows its stored content as JSON as well: not for a request to the
        /// model, whose content is its messages, shown as texts (`trace show --json` prints it whole).
        public var contentShown: Bool
    }

    /// What one event holds, read when a rendering shows it (``content(at:)``): a page that draws
    /// only the timeline's lines never decodes it.
    public struct Content: Sendable, Hashable {
        /// The stored payload with blob references replaced by their text: what the event holds,
        /// as stored (secrets already redacted by the recorder).
        public var json: JSONValue
        /// The parts of it a reviewer reads whole (``RunView/texts(type:content:seq:skipping:)``).
        public var texts: [Text]
    }

    /// The run's metadata.
    public var summary: TraceRunSummary
    /// The offline verification of its chain and checkpoints.
    public var verification: RunVerification
    /// The reviewers' verdicts on it, each checked.
    public var verdicts: [ReviewVerdict]
    /// The timeline (`trace show --json` prints it as it is).
    public var timeline: TraceTimeline
    /// The events, in sequence order, with their lanes (their contents: ``content(at:)``).
    public var events: [Event]
    /// The run's blobs, by digest: what an event's content refers to.
    let blobs: [String: [UInt8]]

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
        blobs = bundle.blobs
        events = timeline.entries.map { entry in
            Event(
                entry: entry, lane: Lane(eventType: entry.type),
                contentShown: entry.type != TraceEventType.modelRequest.rawValue)
        }
    }

    /// The content of the event at `index` of ``events``.
    ///
    /// Each request to the model used to resend the conversation so far: when a request's
    /// messages begin with all of the request before's, its texts show only the ones after them
    /// (one text says so), so that a long run's page grows with the run, not with its square.
    public func content(at index: Int) -> Content {
        let entry = events[index].entry
        let json = resolved(entry.payload)
        var skipped: (count: Int, seq: Int64)?
        let request = TraceEventType.modelRequest.rawValue
        if entry.type == request, let messages = try? ModelRequest.decode(json, seq: entry.seq).messages,
            let before = events[..<index].last(where: { $0.entry.type == request })?.entry,
            let previous = try? ModelRequest.decode(resolved(before.payload), seq: before.seq).messages,
            !previous.isEmpty, messages.starts(with: previous)
        {
            skipped = (previous.count, before.seq)
        }
        return Content(
            json: json, texts: Self.texts(type: entry.type, content: json, seq: entry.seq, skipping: skipped))
    }

    /// The index in ``events`` of the event numbered `seq`.
    public func index(ofSeq seq: Int64) -> Int? { events.firstIndex { $0.entry.seq == seq } }

    /// `payload` with its blob references replaced by their text. A missing blob (a tampered
    /// store) keeps its reference: the banner already says so.
    func resolved(_ payload: JSONValue) -> JSONValue {
        TraceBlobs.resolving(payload, blobs: blobs) { (_, reference) throws(Never) in reference }
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
