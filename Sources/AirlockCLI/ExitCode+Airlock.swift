import AirlockCore
import ArgumentParser

/// The exit codes every `airlock` command uses, by name: the rows of ``AirlockCore/CommandExit``,
/// the one table (documented in docs/cli.md, which `ExitCodeTableCLITests` checks).
extension ExitCode {
    static let checkFailed = ExitCode(CommandExit.checkFailed)
    static let budgetExhausted = ExitCode(CommandExit.budgetExhausted)
    static let runDenied = ExitCode(CommandExit.runDenied)
    static let runRepeating = ExitCode(CommandExit.runRepeating)
    static let runDegenerate = ExitCode(CommandExit.runDegenerate)
    static let usage = ExitCode(CommandExit.usage)
    static let dataError = ExitCode(CommandExit.dataError)
    static let noInput = ExitCode(CommandExit.noInput)
    static let modelUnavailable = ExitCode(CommandExit.modelUnavailable)
    static let ioError = ExitCode(CommandExit.ioError)
    static let noPermission = ExitCode(CommandExit.noPermission)
    static let sandboxSetup = ExitCode(CommandExit.sandboxSetup)
}
