import AirlockCore
import ArgumentParser
import Foundation
import ModelRuntime
import Sandbox

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock model serve`: runs the model server confined and supervised, in the foreground (or
/// in the background with `--background`, returning once it answers).
struct ModelServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the embedded model from Airlock's sandbox on a unix socket, supervised.",
        discussion: """
            The server runs with no network interface but its own loopback, the binary and model \
            read-only, and only its runtime directory writable; it is restarted if it dies and stopped \
            cleanly on SIGTERM or Ctrl-C. Exit codes: 0 stopped on request, 66 nothing installed, \
            1 an artefact differs from its pin, 69 the server kept failing.
            """)

    @Option(help: "The model lock (default: manifests/models.lock, else the installed copy).")
    var lock: String?

    @Option(help: "Which model of the lock to serve (default: its default model).")
    var modelName: String?

    @Option(
        help: ArgumentHelp(
            "Listen on this unix socket; its directory must be dedicated to the server (default: AIRLOCK_HOME/run/model/llama.sock).",
            valueName: "PATH"))
    var socket: String?

    @Option(help: "CPU threads for generation (default: the processors online).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Memory limit for the server's sandbox, e.g. 2G (needs cgroups).")
    var memory: String?

    @Option(
        name: .customLong("allow-degraded"),
        help: "Run without this confinement layer if the host lacks it (recorded): seccomp-notify, landlock, cgroups.")
    var allowDegraded: [String] = []

    @Option(
        name: .customLong("idle-seconds"),
        help: "Stop once no airlock run has used the server for this many seconds (default: serve until stopped).")
    var idleSeconds: Double?

    @Flag(help: "Start in the background and return once the server answers.")
    var background = false

    @Flag(help: .hidden)
    var detachedSupervisor = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        if let idleSeconds, !(idleSeconds > 0) { throw ValidationError("--idle-seconds must be more than 0") }
    }

    func run() async throws {
        let (home, store) = try ModelCLI.home()
        let lock = try ModelCLI.lock(explicit: lock, store: store)
        var settings = ModelServer.Settings(threads: threads, idleSeconds: idleSeconds)
        do {
            settings.memoryBytes = try memory.map { try ByteSizeOption.parse($0, flag: "--memory") }
            settings.allowDegraded = try DegradableLayers.parse(allowDegraded)
        } catch let error as UsageError {
            printError("error: \(error.message)")
            throw ExitCode.usage
        }
        let server = try ModelCLI.server(
            home: home, store: store, lock: lock, model: modelName, settings: settings, socket: socket)
        if background {
            let state = try ModelCLI.ensureRunning(home: home, server: server) { print("model: \($0)") }
            print("serving \(state.model) on unix:\(state.socket) (supervisor pid \(state.supervisorPID))")
            return
        }
        if detachedSupervisor { _ = setsid() }
        var bounds = ModelSupervisor.Bounds()
        bounds.idleSeconds = idleSeconds
        let supervisor = ModelSupervisor(
            server: server, stateFile: home.modelServerState, logFile: home.modelServerLog, bounds: bounds)
        let stoppedOnRequest: Bool
        do {
            stoppedOnRequest = try await supervisor.run { event in
                switch event {
                case .ready(let pid, let interfaces):
                    Self.say(
                        "serving \(server.model.name) on unix:\(server.socket.path) (server pid \(pid.map(String.init) ?? "?"), interfaces: \(interfaces?.joined(separator: ",") ?? "?"))"
                    )
                case .died(let why, let delay): Self.say("server \(why); restarting in \(delay) s")
                case .failed(let why): printError("error: [server-failed] \(why)")
                case .leaving(let why): Self.say("stopping: \(why)")
                case .stopped: Self.say("stopped")
                }
            }
        } catch {
            throw CLI.fail(error)
        }
        if !stoppedOnRequest { throw ExitCode.modelUnavailable }
    }

    /// Writes a line to standard output at once (the supervisor's output goes to a log file, where
    /// buffered lines would appear only at exit).
    private static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((TerminalText.escape(line, keepsLineBreaks: true) + "\n").utf8))
    }
}
