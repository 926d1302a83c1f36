import AirlockCore
import Foundation
import Model

#if canImport(Glibc)
    import Glibc
#endif

/// The background model server of one Airlock home: started on demand by whichever front door
/// needs the embedded model first (`airlock run`, `airlock model serve --background`, later the
/// console and workers), found again by the others, stopped by `airlock model stop`.
///
/// A start is serialised by an exclusive lock on `run/model-start.lock`: of several runs that find
/// no server at the same moment, one starts the supervisor and the others wait for it and use it,
/// so a home never has two supervisors on one socket.
///
/// A client holds a lease while it uses the server (``lease()``: a lock on a file in
/// `run/model-clients/`, released however the client ends, `SIGKILL` included). A supervisor
/// started with ``ModelServer/Settings/idleSeconds`` stops once no lease has been held for that
/// long, and every supervisor stops when its home's `run/` directory is removed, so killed runs and
/// deleted homes leave no server behind.
public struct ModelBackground: Sendable {
    /// The supervisor's state file (`AIRLOCK_HOME/run/model-server.json`).
    public var stateFile: URL
    /// Where the detached supervisor's output is appended (`AIRLOCK_HOME/run/model-server.log`).
    public var logFile: URL
    /// The program the detached supervisor runs as: Airlock's own executable, whose hidden
    /// `model serve --detached-supervisor` entry point is ``supervisorArguments(for:)``.
    public var executable: URL

    /// The most a background start waits for the server to answer, in seconds.
    public static let startSeconds: Double = 180
    /// How long the supervisor gets to stop the server before it is killed, in seconds.
    public static let graceSeconds: Double = 10
    /// How often a start or a stop looks again, in seconds.
    static let pollSeconds: Double = 0.1
    /// How long an on-demand supervisor (one a run started) serves with no client, by default, in
    /// seconds; a site changes it with `model_idle_seconds:` in `site.yaml`.
    public static let defaultIdleSeconds: Double = 900

    /// Where clients hold their leases.
    public var clientsDirectory: URL {
        stateFile.deletingLastPathComponent().appendingPathComponent("model-clients", isDirectory: true)
    }

    /// Creates the background server's handle.
    /// - Parameters:
    ///   - stateFile: the supervisor's state file.
    ///   - logFile: the supervisor's log.
    ///   - executable: the supervisor's program (default: this process's own executable).
    public init(
        stateFile: URL, logFile: URL,
        executable: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    ) {
        self.stateFile = stateFile
        self.logFile = logFile
        self.executable = executable
    }

    /// The arguments that make Airlock's executable supervise `server` in the background.
    /// The flag that makes `airlock model serve` the detached supervisor, and by which a process
    /// is recognised as one (``ModelServerState/supervisorAlive``).
    public static let supervisorFlag = "--detached-supervisor"

    public static func supervisorArguments(for server: ModelServer) -> [String] {
        var arguments = [
            "model", "serve", supervisorFlag, "--model-name", server.model.name,
            "--threads", String(server.settings.threads), "--socket", server.socket.path,
        ]
        arguments += server.settings.allowDegraded.map { "--allow-degraded=\($0.rawValue)" }
        if let bytes = server.settings.memoryBytes { arguments += ["--memory", String(bytes)] }
        if let idle = server.settings.idleSeconds { arguments += ["--idle-seconds", String(idle)] }
        return arguments
    }

    /// Takes a lease on the background server for as long as the returned lock is held: created
    /// under a temporary name, locked, then renamed into `model-clients/`, so a supervisor never
    /// sees an unlocked lease of a live client.
    /// - Throws: ``ModelRuntimeError`` `io`.
    public func lease() throws(ModelRuntimeError) -> FileLock {
        let name = "\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        let pending = clientsDirectory.appendingPathComponent(name + ".pending").path
        let lease = clientsDirectory.appendingPathComponent(name + ".lease").path
        do {
            try FileManager.default.createDirectory(at: clientsDirectory, withIntermediateDirectories: true)
            let lock = try FileLock(path: pending, wait: false)
            guard rename(pending, lease) == 0 else {
                throw ModelRuntimeError(.io, "cannot rename \(pending)", cause: SystemError())
            }
            return lock
        } catch let error as ModelRuntimeError {
            throw error
        } catch let error as FileLock.Failure {
            throw ModelRuntimeError(.io, "cannot \(error.stage) \(error.path)", cause: error.reason)
        } catch {
            throw ModelRuntimeError(.io, "cannot create \(clientsDirectory.path)", cause: error)
        }
    }

    /// How many clients hold a lease now; the leases of clients that are gone are removed.
    public func liveClients() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: clientsDirectory.path)) ?? []
        var live = 0
        for name in names where name.hasSuffix(".lease") {
            let path = clientsDirectory.appendingPathComponent(name).path
            if FileLock.isHeld(path: path) { live += 1 } else { unlink(path) }
        }
        return live
    }

    /// Returns a ready server's state: the running one if its supervisor is alive and it answers,
    /// else a new supervisor's, started detached, once its server answers.
    /// - Parameters:
    ///   - server: the server wanted.
    ///   - announce: told when a new server is being started, and when it is ready (with how long
    ///     the start took).
    /// - Throws: ``ModelRuntimeError``: `digest-mismatch`/`not-installed` when the artefacts are not
    ///   the pinned ones (nothing is started), `server-failed` when the server does not become
    ///   ready within ``startSeconds`` (with the end of its log), `io`.
    public func ensureRunning(_ server: ModelServer, announce: (String) -> Void) throws(ModelRuntimeError)
        -> ModelServerState
    {
        let client = try? OpenAIChatClient(endpoint: server.endpoint)
        if let state = ready(server, client: client) { return state }
        let directory = stateFile.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ModelRuntimeError(.io, "cannot create \(directory.path)", cause: error)
        }
        let lock: FileLock
        do {
            lock = try FileLock(path: directory.appendingPathComponent("model-start.lock").path, wait: true)
        } catch {
            throw ModelRuntimeError(.io, "cannot \(error.stage) \(error.path)", cause: error.reason)
        }
        defer { lock.release() }
        // Another run may have started it while this one waited for the lock.
        if let state = ready(server, client: client) { return state }
        _ = try server.verifyArtefacts()
        announce("starting the model server (\(server.model.name), confined, on \(server.socket.path))")
        let process = try launch(server)
        let began = Date()
        let deadline = Date(timeIntervalSinceNow: Self.startSeconds)
        while Date() < deadline {
            if let state = ModelServerState.read(stateFile), state.supervisorPID == process.processIdentifier,
                state.status == "ready", client?.health().isReady == true
            {
                let seconds = Date().timeIntervalSince(began)
                announce("the model server is ready after \((seconds * 10).rounded() / 10) s")
                return state
            }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: Self.pollSeconds)
        }
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let tail =
            (try? String(contentsOf: logFile, encoding: .utf8))?
            .split(separator: "\n").suffix(15).joined(separator: "\n") ?? ""
        throw ModelRuntimeError(
            .serverFailed,
            "the model server did not become ready within \(Int(Self.startSeconds)) s; the end of \(logFile.path):\n\(tail)"
        )
    }

    /// Stops the running server: SIGTERM to its supervisor, SIGKILL after ``graceSeconds``.
    /// - Returns: what happened, or `nil` when none was running.
    public func stop() -> String? {
        guard let state = ModelServerState.read(stateFile), let supervisor = state.supervisor,
            state.status != "stopped"
        else {
            return nil
        }
        supervisor.signal(SIGTERM)
        if !supervisor.waitForExit(seconds: Self.graceSeconds) {
            supervisor.signal(SIGKILL)
            return "model server supervisor \(state.supervisorPID) killed after \(Int(Self.graceSeconds)) s"
        }
        return "stopped the model server (supervisor pid \(state.supervisorPID))"
    }

    /// The running server's state when its supervisor is alive, it serves `server`'s socket and
    /// answers `/health`.
    private func ready(_ server: ModelServer, client: OpenAIChatClient?) -> ModelServerState? {
        guard let state = ModelServerState.read(stateFile), state.supervisorAlive, state.socket == server.socket.path,
            client?.health().isReady == true
        else { return nil }
        return state
    }

    /// Starts the detached supervisor, its output appended to ``logFile``.
    private func launch(_ server: ModelServer) throws(ModelRuntimeError) -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = Self.supervisorArguments(for: server)
        do {
            if !FileManager.default.fileExists(atPath: logFile.path) {
                _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
            }
            let log = try FileHandle(forWritingTo: logFile)
            _ = try log.seekToEnd()
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
        } catch {
            throw ModelRuntimeError(.serverFailed, "cannot start the model server supervisor", cause: error)
        }
        return process
    }
}
