import Foundation

/// A copy of an executable (a binary or a script) that a test then executes, made by
/// `install(1)` in a child process, so that the test process never holds the copy open for
/// writing.
///
/// Tests run in parallel threads of one process, and several spawn children. A child spawned while
/// this process had the copy open for writing inherits that descriptor (a server that lives on
/// keeps it), and `execve` of the copy then fails with `ETXTBSY` ("Text file busy").
public enum ExecutableCopy {
    /// Why a copy could not be made.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Copies `source` to `destination` with mode `mode`.
    /// - Throws: ``Failure`` when `install(1)` fails, or the error of starting it.
    public static func install(_ source: URL, to destination: URL, mode: String = "0755") throws {
        let install = Process()
        install.executableURL = URL(fileURLWithPath: "/usr/bin/install")
        install.arguments = ["-m", mode, source.path, destination.path]
        let errors = Pipe()
        install.standardError = errors
        try install.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        install.waitUntilExit()
        guard install.terminationStatus == 0 else {
            throw Failure(
                description:
                    "install(1) could not copy \(source.path) to \(destination.path): \(String(decoding: message, as: UTF8.self))"
            )
        }
    }
}
