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

    /// Parses a byte size: a non-negative integer, or a string such as `512KiB`, `64MiB`, `1GiB`.
    /// - Returns: the bytes, or `nil` when the text is no size.
    public static func parseSize(_ text: String) -> UInt64? {
        let units: [(String, UInt64)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("B", 1)]
        var digits = Substring(text)
        var multiplier: UInt64 = 1
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            digits = text.dropLast(suffix.count)
            multiplier = factor
            break
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = UInt64(digits) else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
}
