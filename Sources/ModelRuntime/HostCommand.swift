import Foundation

/// A program run on the host by the installer (`curl` for the package index, `tar` to unpack a
/// source distribution), with its exit status and bounded output.
///
/// These run outside the sandbox because they must reach the package index (curl) or write the
/// store; nothing they produce is trusted before its digest is checked.
struct HostCommand {
    /// The program's exit status and what it printed (the last `keepBytes` bytes of each stream).
    struct Outcome {
        var status: Int32
        var output: String
    }

    /// The most output kept for an error message, in bytes.
    static let keepBytes = 4096

    /// Runs `program` (looked up in `PATH` when not absolute) with `arguments`, inheriting stderr
    /// when `showProgress` is set (curl's progress bar), capturing it otherwise.
    /// - Parameter keepBytes: the most output kept (its end), default ``keepBytes``.
    static func run(
        _ program: String, _ arguments: [String], showProgress: Bool = false, keepBytes: Int = HostCommand.keepBytes
    ) throws(ModelRuntimeError) -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = showProgress ? FileHandle.standardError : pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ModelRuntimeError(.io, "cannot start \(program)", cause: error)
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data.suffix(keepBytes), as: UTF8.self)
        if process.terminationReason == .uncaughtSignal {
            return Outcome(status: 128 + process.terminationStatus, output: text)
        }
        return Outcome(status: process.terminationStatus, output: text)
    }

    /// Whether `program` is on `PATH`.
    static func exists(_ program: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(program)") }
    }
}
