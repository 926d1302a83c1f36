import AirlockCore
import Foundation
import Model
import Sandbox

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded model server (`llama-server`) as Airlock runs it: inside its own sandbox, with no
/// network interface but its own loopback, the binary and the model file read-only, one runtime
/// directory writable, listening on a unix socket there.
public struct ModelServer: Sendable {
    /// How the server is started.
    public struct Settings: Sendable, Hashable {
        /// CPU threads for generation. Default: the processors online.
        public var threads: Int
        /// A memory limit for the whole sandbox (needs cgroups), or `nil`.
        public var memoryBytes: UInt64?
        /// Confinement layers the caller allows to be missing (recorded in the state).
        public var allowDegraded: Set<ConfinementLayer>
        /// Stop once no client has held a lease for this many seconds (``ModelBackground/lease()``),
        /// or `nil` to serve until stopped (an operator's `model serve`).
        public var idleSeconds: Double?

        /// Creates settings.
        public init(
            threads: Int = ProcessInfo.processInfo.activeProcessorCount, memoryBytes: UInt64? = nil,
            allowDegraded: Set<ConfinementLayer> = [], idleSeconds: Double? = nil
        ) {
            self.threads = threads
            self.memoryBytes = memoryBytes
            self.allowDegraded = allowDegraded
            self.idleSeconds = idleSeconds
        }
    }

    /// The most processes and threads in the server's sandbox: generation threads, HTTP threads
    /// and the loader. Default 128.
    public static let maxProcesses = 128
    /// The server has no natural end: its wall-time limit is a year.
    public static let wallTimeSeconds: Double = 365 * 24 * 3600
    /// Standard output and error kept from one server life (the rest is counted and dropped).
    public static let outputBytesPerStream = 256 << 10

    /// Paths inside the sandbox.
    static let binaryPath = "/opt/airlock/llama-server"
    static let modelDirectory = "/models"
    static let runtimePath = "/run/model"
    /// The socket's default name in the runtime directory.
    public static let defaultSocketName = "llama.sock"

    /// The store the binary and model come from.
    public let store: ModelStore
    /// The lock they are pinned by.
    public let lock: ModelLock
    /// The model served.
    public let model: ModelLock.Model
    /// The directory the server may write, holding its socket; dedicated to it.
    public let runtimeDirectory: URL
    /// The socket's file name in ``runtimeDirectory``.
    public let socketName: String
    /// How it is started.
    public let settings: Settings

    /// Creates a server description (nothing starts).
    public init(
        store: ModelStore, lock: ModelLock, model: ModelLock.Model, runtimeDirectory: URL,
        socketName: String = ModelServer.defaultSocketName,
        settings: Settings = Settings()
    ) {
        self.store = store
        self.lock = lock
        self.model = model
        self.runtimeDirectory = runtimeDirectory
        self.socketName = socketName
        self.settings = settings
    }

    /// The socket the server listens on, on the host side.
    public var socket: URL { runtimeDirectory.appendingPathComponent(socketName) }

    /// The endpoint clients use.
    public var endpoint: ModelEndpoint { .unix(path: socket.path, requestPath: ModelEndpoint.defaultRequestPath) }

    /// The socket's path inside the sandbox.
    public var socketInside: String { "\(Self.runtimePath)/\(socketName)" }

    /// The server's command line inside the sandbox.
    public var arguments: [String] {
        [
            "-m", "\(Self.modelDirectory)/\(model.gguf)", "--host", socketInside,
            "-c", String(model.contextTokens), "-t", String(max(1, settings.threads)), "-np", "1",
            "--no-webui", "--offline",
        ]
    }

    /// The sandbox the server runs in.
    public var spec: SandboxSpec {
        var spec = SandboxSpec(
            program: Self.binaryPath, arguments: arguments,
            // HOME on the private /tmp: nothing but the socket is written to the runtime directory.
            environment: ["PATH": SandboxSpec.defaultPath, "HOME": "/tmp", "LC_ALL": "C"],
            mounts: [
                BindMount(source: store.serverBinary(lock.server).path, target: Self.binaryPath, writable: false),
                BindMount(
                    source: store.modelFile(model).path, target: "\(Self.modelDirectory)/\(model.gguf)", writable: false
                ),
                BindMount(source: runtimeDirectory.path, target: Self.runtimePath, writable: true),
            ],
            workingDirectory: Self.runtimePath)
        spec.limits = SandboxLimits(
            wallTimeSeconds: Self.wallTimeSeconds, memoryBytes: settings.memoryBytes, maxProcesses: Self.maxProcesses,
            outputBytesPerStream: Self.outputBytesPerStream)
        spec.allowDegraded = settings.allowDegraded
        return spec
    }

    /// Checks, before a start, that what would be served is what the lock pins: the model file and
    /// the binary re-hashed (the binary against the installation record).
    /// - Returns: the model's and the binary's SHA-256.
    /// - Throws: ``ModelRuntimeError`` `not-installed` or `digest-mismatch`.
    public func verifyArtefacts() throws(ModelRuntimeError) -> (model: String, server: String) {
        guard let installed = try store.installed() else {
            throw ModelRuntimeError(
                .notInstalled, "no model is installed in \(store.root.path) (run airlock model install)")
        }
        let modelCheck = ArtefactCheck.hash(
            model.gguf, kind: "model", at: store.modelFile(model), expected: model.ggufSHA256)
        let serverCheck = ArtefactCheck.hash(
            lock.server.name, kind: "server", at: store.serverBinary(lock.server), expected: installed.serverSHA256)
        for check in [modelCheck, serverCheck] where !check.passed {
            throw ModelRuntimeError(
                check.actual == nil ? .notInstalled : .digestMismatch,
                "\(check.path): \(check.problem ?? "") (expected sha256 \(check.expected), found \(check.actual ?? "nothing")); run airlock model install"
            )
        }
        return (model.ggufSHA256, installed.serverSHA256)
    }

    /// Prepares the runtime directory: created 0755, owned by the sandbox user so the server can
    /// create its socket, any stale socket removed. The directory is given to the server, so it
    /// must be dedicated to it: an existing one holding anything but the socket is refused.
    func prepareRuntimeDirectory(owner: (uid: UInt32, gid: UInt32)) throws(ModelRuntimeError) {
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: runtimeDirectory.path)) ?? []
        let foreign = existing.filter { $0 != socketName }
        guard foreign.isEmpty else {
            throw ModelRuntimeError(
                .io,
                "\(runtimeDirectory.path) holds \(foreign.prefix(3).joined(separator: ", ")): the server's socket needs a directory of its own (it becomes the server's only writable place)"
            )
        }
        try FileOperations.ensureDirectory(runtimeDirectory, mode: 0o755)
        guard chown(runtimeDirectory.path, owner.uid, owner.gid) == 0 else {
            throw ModelRuntimeError(
                .io, "cannot give \(runtimeDirectory.path) to the sandbox user \(owner.uid)",
                cause: SystemError())
        }
        unlink(socket.path)
    }
}
