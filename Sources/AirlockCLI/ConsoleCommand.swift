import AirlockCore
import ArgumentParser
import Console
import Foundation
import Runs
import Trace

/// `airlock console [--listen ADDRESS:PORT | unix:PATH]`: the web console for reviewers and
/// approvers (docs/console.md). Serves until SIGINT or SIGTERM; prints where it listens and each
/// one-time sign-in token on stdout.
/// Exit codes: 0 stopped on request; 64 a malformed or refused `--listen`; 65 a bad `site.yaml`;
/// 74 the socket, the audit log, the trace, the keys or the approvals store could not be used.
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Serve the web console: runs, timelines, approvals, verdicts, compare and what-if.",
        discussion: """
            Listens on AIRLOCK_HOME/run/console.sock (mode 0600) unless --listen names a loopback \
            address and port (127.0.0.1:8080; port 0 picks one); an address beyond loopback only if \
            site.yaml lists it under console_listen. On TCP, sign in with the one-time token printed \
            here, as this local account (USER). On a unix socket the kernel names who connects: this \
            account, or one site.yaml lists under console_peers, each acting as itself; any other is \
            refused. Exit codes: 0 stopped, 64 --listen, 65 site.yaml, 74 state (docs/cli.md).
            """)

    @Option(help: "127.0.0.1:PORT, [::1]:PORT, another address site.yaml lists, or unix:PATH.")
    var listen: String?

    func run() async throws {
        let home = try AirlockHome.resolve()
        let site = try CLI.run { () throws(RunsError) in try home.site() }
        let address = try CLI.run { () throws(ConsoleError) in
            try listen.map { text throws(ConsoleError) in
                try ConsoleAddress(parsing: text, allowed: site.consoleListen)
            } ?? .unix(path: home.runDirectory.appendingPathComponent("console.sock").path)
        }
        let principal = RunCommand.userName()
        let configuration = ConsoleConfiguration(
            address: address, traceDatabase: home.traceDatabase.path, approvals: home.approvalStore,
            trustedKeys: try TraceCLI.trustedKeys([]), signingKey: try TraceCLI.signingKey(),
            auditLog: home.root.appendingPathComponent("console-audit.jsonl").path, admittedPeers: site.consolePeers)
        // A token only on TCP: on the unix socket the kernel names who connects.
        var onNewToken: (@Sendable (String) -> Void)? = { token in Self.say("sign-in token (one use): \(token)") }
        if case .unix = address { onNewToken = nil }
        let server = try CLI.run { [onNewToken] () throws(ConsoleError) in
            let sessions = ConsoleSessions(principal: principal, onNewToken: onNewToken)
            return try ConsoleServer(
                configuration: configuration, sessions: sessions, audit: try ConsoleAudit(path: configuration.auditLog))
        }
        do {
            try await server.run { listening in
                switch listening {
                case .unix(let path):
                    let others =
                        site.consolePeers.isEmpty ? "" : "; also admits " + site.consolePeers.joined(separator: ", ")
                    Self.say(
                        "console: listening on unix:\(path) as \(principal)\(others) (each connection's account named by the kernel; reach it with ssh -L or socat)"
                    )
                case .tcp:
                    Self.say("console: listening on http://\(listening) as \(principal)")
                }
            }
        } catch let error as ConsoleError {
            throw CLI.fail(error)
        } catch {
            printError("error: the console could not listen on \(address): \(error)")
            throw ExitCode.ioError
        }
    }

    /// A line on stdout, at once (a test or a supervisor reads it while the console serves).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
