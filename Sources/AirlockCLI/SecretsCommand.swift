import ArgumentParser
import Foundation
import Runs
import Secrets

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock secrets …`: the local secret store and per-call tokens (docs/secrets.md).
struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Keep tool credentials in the local encrypted store; mint and verify per-call tokens.",
        discussion:
            "Values are read from standard input or --from-file, never from the command line. Exit codes: 66 unknown name, 65 corrupt store, 64 usage, 74 I/O.",
        subcommands: [
            SecretsSetCommand.self, SecretsListCommand.self, SecretsRotateCommand.self, SecretsRemoveCommand.self,
            SecretsTokenKeyCommand.self, SecretsTokenCommand.self,
        ]
    )
}

/// What every `secrets` subcommand shares: the store under `AIRLOCK_HOME`, reading a value,
/// reporting a ``SecretsError`` with its exit code.
enum SecretsCLI {
    /// The store under `AIRLOCK_HOME`.
    static func store() throws -> (AirlockHome, SecretStore) {
        let (home, _) = try ToolsCLI.registry()
        return (home, SecretStore(home: home.root))
    }

    /// A broker for a run, or `nil` when there is no store and no key yet (nothing to deliver or
    /// redact).
    static func broker(_ home: AirlockHome) throws -> SecretBroker? {
        try CLI.run { () throws(RunsError) in try RunConstructor(home: home).secretBroker() }
    }

    /// The value to store: the file's contents, or standard input (without echo on a terminal),
    /// with one trailing newline removed. Empty is refused.
    static func readValue(name: String, fromFile: String?) throws -> [UInt8] {
        var bytes: [UInt8]
        if let fromFile {
            guard let data = FileManager.default.contents(atPath: ToolsCLI.url(fromFile).path) else {
                printError("error: --from-file \(fromFile): cannot read it")
                throw ExitCode.noInput
            }
            bytes = Array(data)
        } else if isatty(STDIN_FILENO) == 1 {
            bytes = Array(readWithoutEcho(prompt: "value for \(name) (not echoed): ").utf8)
        } else {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        }
        if bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        }
        guard !bytes.isEmpty else {
            printError("error: the value for \(name) is empty; nothing was stored")
            throw ExitCode.usage
        }
        return bytes
    }

    /// One line from the terminal with echo turned off (and back on afterwards).
    private static func readWithoutEcho(prompt: String) -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        let canRestore = tcgetattr(STDIN_FILENO, &saved) == 0
        if canRestore {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        }
        let line = readLine(strippingNewline: false) ?? ""
        if canRestore { _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
        FileHandle.standardError.write(Data("\n".utf8))
        return line
    }
}
