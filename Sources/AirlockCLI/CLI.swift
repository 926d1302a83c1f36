import AirlockCore
import ArgumentParser
import Foundation

/// Reporting any Airlock error on the command line, the one way every command does it:
/// `error: [code] message` on standard error, escaped for the terminal, and the exit status the
/// error's code declares (``AirlockCore/CommandExit``, the table in docs/cli.md).
enum CLI {
    /// Prints `error` on standard error and returns its documented exit code.
    static func fail(_ error: some AirlockFailure) -> ExitCode {
        printError("error: [\(error.codeName)] \(error)")
        return ExitCode(error.exitStatus)
    }

    /// Runs `body`, turning its error into the message and the exit code (thrown).
    static func run<T, Failure: AirlockFailure>(_ body: () throws(Failure) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw CLI.fail(error)
        }
    }
}

/// Prints one line on standard error. Messages quote manifests, policies, paths, arguments and
/// recorded text: escaped for the terminal (line breaks kept).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((TerminalText.escape(line, keepsLineBreaks: true) + "\n").utf8))
}

extension ExitCode {
    /// The exit code of a row of the table.
    init(_ status: CommandExit) {
        self.init(status.rawValue)
    }
}
