import ArgumentParser
import Runs

/// Reporting a ``RunsError`` (a run that could not be assembled) and its documented exit code.
enum RunsCLI {
    /// Prints `error` and returns its exit code (docs/cli.md, `airlock run`).
    static func fail(_ error: RunsError) -> ExitCode {
        ToolsCLI.printError("error: \(error)")
        return switch error.code {
        case .usage: .usage
        case .invalidInput: .dataError
        case .notFound: .noInput
        case .modelUnavailable: .modelUnavailable
        case .state: .ioError
        }
    }

    /// Runs `body`, turning a ``RunsError`` into its message and exit code.
    static func run<T>(_ body: () throws(RunsError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw fail(error)
        }
    }
}
