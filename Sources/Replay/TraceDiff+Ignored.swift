import Trace

extension TraceDiff {
    /// A recorded field that differs between any two runs and says nothing about either, so the
    /// diff does not compare it.
    public struct IgnoredField: Sendable, Hashable {
        /// The event types it is ignored in.
        public var types: [TraceEventType]
        /// Its JSON pointer inside the payload; `*` stands for any one token (an array index).
        public var pointer: String
        /// Why it means nothing.
        public var why: String

        /// Whether `pointer` (escaped tokens) is this field.
        func matches(_ pointer: String) -> Bool {
            let pattern = self.pointer.split(separator: "/", omittingEmptySubsequences: false)
            let tokens = pointer.split(separator: "/", omittingEmptySubsequences: false)
            guard pattern.count == tokens.count else { return false }
            return zip(pattern, tokens).allSatisfy { $0 == "*" || $0 == $1 }
        }
    }

    /// Every payload field the diff leaves out, with why (docs/replay.md lists them).
    ///
    /// Besides these, nothing of an event's envelope is compared (run id, sequence number, time,
    /// hash), nor the checkpoints and ledger entries, which are not events; and the run's
    /// workspace path, wherever it appears, reads as `${workspace}` (each run has a workspace of
    /// its own).
    public static let ignoredFields: [IgnoredField] = {
        let callEvents: [TraceEventType] = [
            .toolProposed, .policyDecision, .approvalRequested, .approvalGranted, .approvalDenied, .toolExecuted,
            .toolResult,
        ]
        let callID = "call ids are the model's or `call-STEP-N`; calls are aligned by tool and arguments instead"
        let measured = "a measurement of one execution: it varies from one run to the next however alike"
        return [
            IgnoredField(types: callEvents, pointer: "/call_id", why: callID),
            IgnoredField(types: [.modelResponse], pointer: "/tool_calls/*/id", why: callID),
            IgnoredField(types: [.modelRequest], pointer: "/messages/*/tool_call_id", why: callID),
            IgnoredField(types: [.modelRequest], pointer: "/messages/*/tool_calls/*/id", why: callID),
            IgnoredField(
                types: [.runStarted], pointer: "/context/workspace",
                why: "each run has a workspace of its own (elsewhere its path reads as `${workspace}`)"),
            IgnoredField(
                types: [.approvalRequested], pointer: "/request_id",
                why: "derived from the run id and the proposal's number: another for every run"),
            IgnoredField(
                types: [.policyDecision], pointer: "/approvals",
                why: "each approval counted is `by@time`; who answered is compared in approval.granted"),
            IgnoredField(
                types: [.toolExecuted], pointer: "/idempotency_key",
                why: "`RUN_ID:CALL_ID`: another for every run (the call id is compared as above)"),
            IgnoredField(types: [.toolExecuted], pointer: "/record/wallSeconds", why: measured),
            IgnoredField(types: [.toolExecuted], pointer: "/record/userCPUSeconds", why: measured),
            IgnoredField(types: [.toolExecuted], pointer: "/record/systemCPUSeconds", why: measured),
            IgnoredField(types: [.toolExecuted], pointer: "/record/peakMemoryBytes", why: measured),
            IgnoredField(
                types: [.toolExecuted], pointer: "/record/confinement/networkNamespace",
                why: "names the namespace's inode, which is another for every sandbox (or pool) created"),
        ]
    }()

    /// Whether the field at `pointer` of a `type` event is one of ``ignoredFields``.
    static func isIgnored(_ type: TraceEventType, _ pointer: String) -> Bool {
        ignoredFields.contains { $0.types.contains(type) && $0.matches(pointer) }
    }
}
