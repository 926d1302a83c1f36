/// Runs programs in confined child processes.
public struct Sandbox: Sendable {
    /// Creates a sandbox runner.
    public init() {}

    /// Runs `spec` to completion and returns what happened.
    /// - Throws: ``SandboxError`` when the sandbox could not be set up.
    public func run(_ spec: SandboxSpec) async throws(SandboxError) -> ExecutionRecord {
        throw SandboxError(.setupFailed, "sandbox: under construction")
    }
}
