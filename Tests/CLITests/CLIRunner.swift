import Foundation

/// Runs the built `airlock` binary, as a user would, and captures what it prints.
///
/// The binary sits beside the test bundle in the build folder (`swift build` builds it first).
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CLI {
    /// The built `airlock` executable.
    static var binary: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // `swift test` may run from inside the .xctest bundle directory on some layouts.
        if dir.lastPathComponent.hasSuffix(".xctest") { dir.deleteLastPathComponent() }
        return dir.appendingPathComponent("airlock")
    }

    /// The built `airlock-test-helper` (Tests/TestHelper): what a test needs another process for
    /// and the product does not ship (the crash test's append loop, the sandbox leak check).
    static var helper: URL { binary.deletingLastPathComponent().appendingPathComponent("airlock-test-helper") }

    /// Runs `airlock ARGS...` (or `executable ARGS...`) with `environment` added to a minimal
    /// environment; with a `launcher` (`["/usr/bin/unshare", "--mount"]`), through it.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
        currentDirectory: URL? = nil, launcher: [String] = [], executable: URL = binary
    ) throws -> CLIResult {
        let process = Process()
        prepare(process, arguments, environment: environment, launcher: launcher, executable: executable)
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Sets `process` up to run `airlock ARGS...` (through `launcher` if given) with `environment`
    /// added to a minimal one and no input: the background processes' common start.
    static func prepare(
        _ process: Process, _ arguments: [String], environment: [String: String], launcher: [String],
        executable: URL = binary
    ) {
        if let first = launcher.first {
            process.executableURL = URL(fileURLWithPath: first)
            process.arguments = launcher.dropFirst() + [executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        process.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": NSTemporaryDirectory()].merging(
            environment
        ) { $1 }
        process.standardInput = FileHandle.nullDevice
    }

    /// A fresh temporary directory, removed by the caller (or left for the OS in /tmp).
    static func temporaryDirectory(_ label: String = "airlock-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
