import AirlockCore
import Sandbox

/// The limits a manifest sets for each run of its tool. Every bound has a documented default.
public struct ToolLimits: Sendable, Hashable, Codable {
    /// Wall-clock seconds before the sandbox is killed. Default 10.
    public var timeoutSeconds: Double
    /// CPU seconds per process. Default 10.
    public var cpuSeconds: Int
    /// Memory for the whole sandbox in bytes. Default 256 MiB.
    public var memoryBytes: UInt64
    /// Processes and threads. Default 16.
    public var processes: Int
    /// Largest file the tool may write, in bytes. Default 16 MiB.
    public var fileSizeBytes: UInt64

    /// Creates limits; every parameter defaults to the documented value.
    public init(
        timeoutSeconds: Double = 10, cpuSeconds: Int = 10, memoryBytes: UInt64 = 256 << 20, processes: Int = 16,
        fileSizeBytes: UInt64 = 16 << 20
    ) {
        self.timeoutSeconds = timeoutSeconds
        self.cpuSeconds = cpuSeconds
        self.memoryBytes = memoryBytes
        self.processes = processes
        self.fileSizeBytes = fileSizeBytes
    }

    /// The sandbox limits for one run; `outputBytes` caps each captured stream.
    public func sandboxLimits(outputBytes: Int) -> SandboxLimits {
        SandboxLimits(
            wallTimeSeconds: timeoutSeconds, cpuSeconds: cpuSeconds, memoryBytes: memoryBytes,
            maxProcesses: processes, fileSizeBytes: fileSizeBytes, outputBytesPerStream: outputBytes)
    }
}
