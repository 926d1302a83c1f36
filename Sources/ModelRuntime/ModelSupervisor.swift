import AirlockCore
import Dispatch
import Foundation
import Model
import Sandbox
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps the confined model server running: starts it, waits until it answers, restarts it when
/// it dies (with backoff, up to a bound), and stops it cleanly on SIGTERM, SIGINT or SIGHUP.
///
/// This is `airlock model serve`; `airlock run` starts one in the background when none runs.
public final class ModelSupervisor: Sendable {
    /// Bounds of supervision.
    public struct Bounds: Sendable, Hashable {
        /// How long a start may take until `/health` answers 200, in seconds. Default 120.
        public var readySeconds: Double = 120
        /// Restarts allowed within ``restartWindowSeconds`` before giving up. Default 5.
        public var maxRestarts = 5
        /// The window restarts are counted in, in seconds. Default 300.
        public var restartWindowSeconds: Double = 300
        /// The first restart's delay, doubled each time up to ``maxBackoffSeconds``. Default 1.
        public var initialBackoffSeconds: Double = 1
        /// The longest delay between restarts. Default 30.
        public var maxBackoffSeconds: Double = 30
        /// Stop once no client has held a lease for this long (``ModelBackground/lease()``), or
        /// `nil` to serve until stopped. Default `nil`.
        public var idleSeconds: Double?
        /// How often the home and the leases are looked at, in seconds. Default 1.
        public var watchSeconds: Double = 1

        /// The defaults.
        public init() {}
    }

    /// What the supervisor reports as it goes.
    public enum Event: Sendable {
        /// The server started and answers: its host pid, and the interfaces it sees.
        case ready(serverPID: Int32?, interfaces: [String]?)
        /// The server ended on its own; it will be restarted after `delay` seconds.
        case died(String, restartIn: Double)
        /// The supervisor gave up or could not start the server.
        case failed(String)
        /// Stopping on its own: no client for the idle time, or its home was removed.
        case leaving(String)
        /// Stopped (on a signal, or after ``leaving(_:)``).
        case stopped
    }

    let server: ModelServer
    let stateFile: URL
    let logFile: URL
    let bounds: Bounds
    /// Whether a stop was asked for, and the running server's task (cancelled to kill it).
    private let control = Mutex<(stopping: Bool, current: Task<ExecutionRecord, any Error>?)>((false, nil))

    /// Creates a supervisor.
    /// - Parameters:
    ///   - server: what to run.
    ///   - stateFile: where the state is written for others to read.
    ///   - logFile: where the end of each server life's output is appended.
    public init(server: ModelServer, stateFile: URL, logFile: URL, bounds: Bounds = Bounds()) {
        self.server = server
        self.stateFile = stateFile
        self.logFile = logFile
        self.bounds = bounds
    }

    /// Asks the supervisor to stop: the running server's sandbox is killed and ``run(onEvent:)``
    /// returns.
    public func stop() {
        let task = control.withLock {
            $0.stopping = true
            return $0.current
        }
        task?.cancel()
    }

    private var isStopping: Bool { control.withLock { $0.stopping } }

    /// Supervises until stopped or until the server fails too often.
    /// - Returns: `true` when stopped on request, `false` when it gave up.
    /// - Throws: ``ModelRuntimeError`` when the artefacts are not the pinned ones or the runtime
    ///   directory cannot be prepared (nothing was started).
    public func run(onEvent: @escaping @Sendable (Event) -> Void) async throws(ModelRuntimeError) -> Bool {
        let digests = try server.verifyArtefacts()
        let sandbox = Sandbox()
        try FileOperations.ensureDirectory(stateFile.deletingLastPathComponent(), mode: 0o755)
        var state = ModelServerState(
            status: "starting", supervisorPID: getpid(), socket: server.socket.path, model: server.model.name,
            modelSHA256: digests.model, serverSHA256: digests.server,
            startedAt: ISO8601DateFormatter().string(from: Date()))
        try state.write(stateFile)
        let signals = installSignalHandlers()
        let watchdog = Task { [weak self] in await self?.watch(onEvent: onEvent) }
        defer {
            watchdog.cancel()
            signals.forEach { $0.cancel() }
            unlink(server.socket.path)
            state.status = "stopped"
            try? state.write(stateFile)
        }
        var recentStarts: [Date] = []
        var backoff = bounds.initialBackoffSeconds
        while !isStopping {
            try server.prepareRuntimeDirectory(owner: sandbox.hostIdentity)
            recentStarts = recentStarts.filter { Date().timeIntervalSince($0) < bounds.restartWindowSeconds }
            recentStarts.append(Date())
            let spec = server.spec
            let ended = RunEnded()
            let task = Task {
                defer { ended.mark() }
                return try await sandbox.run(spec)
            }
            let cancelNow = control.withLock {
                $0.current = task
                return $0.stopping
            }
            if cancelNow { task.cancel() }

            if await waitUntilReady(unless: ended) {
                state.serverPID = ProcessNetwork.findDescendant(
                    of: getpid(), program: ModelServer.binaryPath,
                    argument: server.socketInside)
                state.interfaces = state.serverPID.flatMap { ProcessNetwork.interfaces(pid: $0) }
                state.ownNetworkNamespace = state.serverPID.flatMap { ProcessNetwork.hasOwnNamespace(pid: $0) }
                state.status = "ready"
                try? state.write(stateFile)
                onEvent(.ready(serverPID: state.serverPID, interfaces: state.interfaces))
                backoff = bounds.initialBackoffSeconds
            }
            let ending: String
            switch await task.result {
            case .success(let record):
                appendLog(record)
                ending = record.timedOut ? "timed out" : "ended with status \(record.shellExitCode)"
            case .failure(let error):
                ending = "could not start: \(error)"
            }
            state.serverPID = nil
            state.lastExit = ending
            if isStopping { break }
            guard recentStarts.count <= bounds.maxRestarts else {
                state.status = "failed"
                try? state.write(stateFile)
                onEvent(
                    .failed(
                        "the server \(ending), and it was started \(recentStarts.count) times in \(Int(bounds.restartWindowSeconds)) s; giving up (see \(logFile.path))"
                    ))
                return false
            }
            state.status = "restarting"
            state.restarts += 1
            try? state.write(stateFile)
            onEvent(.died(ending, restartIn: backoff))
            try? await Task.sleep(nanoseconds: UInt64(backoff * 1e9))
            backoff = min(backoff * 2, bounds.maxBackoffSeconds)
        }
        onEvent(.stopped)
        return true
    }

    /// Stops the supervisor when its home's `run/` directory is gone (the home was deleted) or,
    /// with an idle bound, when no client has held a lease for that long.
    private func watch(onEvent: @Sendable (Event) -> Void) async {
        let runDirectory = stateFile.deletingLastPathComponent()
        let background = ModelBackground(stateFile: stateFile, logFile: logFile)
        var lastClient = Date()
        while !isStopping, !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(bounds.watchSeconds * 1e9))
            guard FileManager.default.fileExists(atPath: runDirectory.path) else {
                onEvent(.leaving("its home's \(runDirectory.path) was removed"))
                return stop()
            }
            guard let idle = bounds.idleSeconds else { continue }
            if background.liveClients() > 0 {
                lastClient = Date()
            } else if Date().timeIntervalSince(lastClient) >= idle {
                onEvent(.leaving("no client for \(Int(idle)) s"))
                return stop()
            }
        }
    }

    /// Polls `/health` until it answers 200, the server's run ends, the supervisor stops, or the
    /// bound passes.
    private func waitUntilReady(unless ended: RunEnded) async -> Bool {
        let deadline = Date(timeIntervalSinceNow: bounds.readySeconds)
        guard let client = try? OpenAIChatClient(endpoint: server.endpoint) else { return false }
        while Date() < deadline && !isStopping && !ended.isMarked {
            if client.health(timeoutSeconds: 2).isReady { return true }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
        return false
    }

    /// Appends the end of one server life's output to the log file.
    private func appendLog(_ record: ExecutionRecord) {
        let header =
            "== \(ISO8601DateFormatter().string(from: Date())) server ended: status \(record.shellExitCode)"
            + (record.deniedSyscalls.isEmpty
                ? "" : ", denied syscalls: \(record.deniedSyscalls.map(\.name).joined(separator: ","))")
        let text = header + "\n" + record.stderr.text.suffix(8192) + "\n"
        guard
            let handle = FileHandle(forWritingAtPath: logFile.path)
                ?? {
                    _ = FileManager.default.createFile(
                        atPath: logFile.path, contents: nil, attributes: [.posixPermissions: 0o644])
                    return FileHandle(forWritingAtPath: logFile.path)
                }()
        else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data(text.utf8))
    }

    private func installSignalHandlers() -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT, SIGHUP].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.stop() }
            source.resume()
            return source
        }
    }
}

/// Whether one server life's sandbox run has ended (set when the run returns or throws).
private final class RunEnded: Sendable {
    private let ended = Mutex(false)

    func mark() { ended.withLock { $0 = true } }

    var isMarked: Bool { ended.withLock { $0 } }
}
