/// Which call a run of a tool is: what a per-call token is bound to.
public struct ToolCallIdentity: Sendable, Hashable {
    /// The run id.
    public var runID: String
    /// The argument digest the agent computed for the call (`Policy.ArgumentDigest`).
    public var argumentsDigest: String

    /// Creates an identity.
    public init(runID: String, argumentsDigest: String) {
        self.runID = runID
        self.argumentsDigest = argumentsDigest
    }
}
