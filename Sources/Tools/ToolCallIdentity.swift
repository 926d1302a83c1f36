/// Which call a run of a tool is: what a per-call token is bound to.
public struct ToolCallIdentity: Sendable, Hashable {
    /// The run id.
    public var runID: String
    /// The argument digest the agent computed for the call (`Policy.ArgumentDigest`).
    public var argumentsDigest: String
    /// The call's id in the run (`c1`, `c2`, …), when the call is a run's step.
    public var callID: String?

    /// Creates an identity.
    public init(runID: String, argumentsDigest: String, callID: String? = nil) {
        self.runID = runID
        self.argumentsDigest = argumentsDigest
        self.callID = callID
    }

    /// The key a tool's side effects outside the sandbox are deduplicated by: `RUN_ID:CALL_ID`,
    /// the same for every execution of one call of one run (docs/tools.md); `nil` without a call id.
    public var idempotencyKey: String? { callID.map { "\(runID):\($0)" } }
}
