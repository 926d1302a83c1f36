import ArgumentParser

/// The exit codes every `airlock` command uses (documented in docs/cli.md).
///
/// Follows sysexits(3) where it has a name for the case, and the container runtimes'
/// convention (125) for "the sandbox could not be set up".
extension ExitCode {
    /// A check found a problem: verification failed, a policy test failed, a lint found issues.
    static let checkFailed = ExitCode(1)
    /// `run`: a budget (steps, tool calls, wall time) was spent before a final answer.
    static let budgetExhausted = ExitCode(3)
    /// `run`: calls kept being refused (policy or approval) and the run ended without an answer.
    static let runDenied = ExitCode(4)
    /// `run`: the model kept repeating a call that already ran (`budgets.max_repeats`) and the
    /// run ended without an answer.
    static let runRepeating = ExitCode(5)
    /// `airlock run`: the model's final answer was degenerate (empty, or one phrase repeated over
    /// most of it); status `degenerate_answer`.
    static let runDegenerate = ExitCode(6)
    /// Bad usage: unknown flag, malformed value (EX_USAGE).
    static let usage = ExitCode(64)
    /// The input file is malformed: manifest, policy, workflow, call (EX_DATAERR).
    static let dataError = ExitCode(65)
    /// An input file or named object does not exist (EX_NOINPUT).
    static let noInput = ExitCode(66)
    /// `run`: the model is unreachable or could not answer (EX_UNAVAILABLE).
    static let modelUnavailable = ExitCode(69)
    /// Airlock's own state could not be read or written (EX_IOERR).
    static let ioError = ExitCode(74)
    /// `approvals approve`: the policy requires an approver other than the run's principal, who
    /// tried (EX_NOPERM).
    static let noPermission = ExitCode(77)
    /// The sandbox could not be set up; nothing ran.
    static let sandboxSetup = ExitCode(125)
}
