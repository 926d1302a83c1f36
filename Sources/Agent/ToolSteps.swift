import AirlockCore
import Tools

/// What runs an allowed call: the real ``ToolRunner`` (sandbox) in a live run, the recorded
/// outcomes in a replay.
public protocol ToolStepRunning: Sendable {
    /// Runs one allowed call.
    /// - Parameter timeLimit: the most seconds the call may take, when less than its manifest's
    ///   limit: what is left of the run's wall budget (`nil`: the manifest's).
    /// - Returns: the result; a non-zero exit or a timeout is an outcome in it.
    /// - Throws: ``ToolStepFailure`` when the call could not run.
    func perform(
        _ tool: RegisteredTool, arguments: JSONValue, context: ToolRunContext, call: ToolCallIdentity,
        timeLimit: Double?
    ) async throws(ToolStepFailure) -> ToolRunResult
}

/// A call that could not run: what the trace records and what the model is told.
public struct ToolStepFailure: Error, Sendable, Hashable {
    /// The error code (``ToolsError/Code``'s raw value).
    public var code: String
    /// The short message the model is told.
    public var message: String
    /// The whole message with its problems and cause, as recorded.
    public var description: String
    /// Whether the sandbox itself could not be set up (the run then ends as `failed`).
    public var sandboxUnavailable: Bool

    /// Creates a failure.
    public init(code: String, message: String, description: String, sandboxUnavailable: Bool) {
        self.code = code
        self.message = message
        self.description = description
        self.sandboxUnavailable = sandboxUnavailable
    }

    /// The failure a ``ToolsError`` is.
    public init(_ error: ToolsError) {
        self.init(
            code: error.code.rawValue, message: error.message, description: error.description,
            sandboxUnavailable: error.code == .sandbox)
    }
}

extension ToolRunner: ToolStepRunning {
    public func perform(
        _ tool: RegisteredTool, arguments: JSONValue, context: ToolRunContext, call: ToolCallIdentity,
        timeLimit: Double?
    ) async throws(ToolStepFailure) -> ToolRunResult {
        do {
            return try await run(tool, arguments: arguments, context: context, call: call, timeLimit: timeLimit)
        } catch {
            throw ToolStepFailure(error)
        }
    }
}
