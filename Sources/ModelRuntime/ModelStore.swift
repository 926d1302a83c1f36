import AirlockCore
import Foundation

/// Where the embedded model's artefacts live, and the record of what was installed.
///
/// ```
/// MODEL_DIR/                 AIRLOCK_MODEL_HOME, default AIRLOCK_HOME/model (0755)
///   models.lock              the lock this installation follows (a copy)
///   installed.json           what was installed, with every digest
///   artefacts/FILE           the fetched source distribution and wheels, as pinned
///   bin/llama-server         the server built from the pinned source
///   models/NAME.gguf         the extracted model files
/// ```
/// Everything is readable by the sandbox user (the server runs as it) and writable only by the
/// installer; nothing here is secret.
public struct ModelStore: Sendable {
    /// The model directory.
    public let root: URL

    /// Creates a store rooted at `root` (not created until something is installed).
    public init(root: URL) { self.root = root }

    /// The lock copy kept with the installation.
    public var lockFile: URL { root.appendingPathComponent("models.lock") }
    /// The installation record.
    public var installedFile: URL { root.appendingPathComponent("installed.json") }
    /// Fetched artefacts.
    public var artefacts: URL { root.appendingPathComponent("artefacts", isDirectory: true) }
    /// Built binaries.
    public var bin: URL { root.appendingPathComponent("bin", isDirectory: true) }
    /// Extracted model files.
    public var models: URL { root.appendingPathComponent("models", isDirectory: true) }
    /// Scratch space of a build, removed when it succeeds.
    public var buildDirectory: URL { root.appendingPathComponent("build", isDirectory: true) }

    /// The fetched copy of `artefact`.
    public func path(of artefact: ModelLock.Artefact) -> URL { artefacts.appendingPathComponent(artefact.file) }
    /// The installed server binary.
    public func serverBinary(_ server: ModelLock.Server) -> URL { bin.appendingPathComponent(server.name) }
    /// The extracted GGUF of `model`.
    public func modelFile(_ model: ModelLock.Model) -> URL { models.appendingPathComponent(model.gguf) }

    /// Reads the installation record, or `nil` when nothing is installed.
    /// - Throws: ``ModelRuntimeError`` `io` when the record exists but cannot be read or parsed.
    public func installed() throws(ModelRuntimeError) -> InstalledModel? {
        guard FileManager.default.fileExists(atPath: installedFile.path) else { return nil }
        do {
            let json = try JSONParser().parse(Array(try Data(contentsOf: installedFile)))
            guard let record = InstalledModel(json: json) else {
                throw ModelRuntimeError(
                    .io, "\(installedFile.path): not an installation record (reinstall with airlock model install)")
            }
            return record
        } catch let error as ModelRuntimeError {
            throw error
        } catch {
            throw ModelRuntimeError(.io, "cannot read \(installedFile.path)", cause: error)
        }
    }

    /// Writes the installation record atomically.
    func record(_ installed: InstalledModel) throws(ModelRuntimeError) {
        try FileOperations.writeAtomically(Array(installed.json.prettyString.utf8), to: installedFile, mode: 0o644)
    }

    /// Re-hashes every installed artefact against `lock` (and the binary against the record).
    ///
    /// Each check is a value; a missing file or a changed digest is a failed check, never a throw.
    /// - Throws: ``ModelRuntimeError`` `not-installed` when there is no installation record.
    public func verify(against lock: ModelLock) throws(ModelRuntimeError) -> [ArtefactCheck] {
        guard let installed = try installed() else {
            throw ModelRuntimeError(
                .notInstalled, "no model is installed in \(root.path) (run airlock model install)")
        }
        var checks: [ArtefactCheck] = []
        for artefact in lock.artefacts {
            checks.append(
                ArtefactCheck.hash(artefact.file, kind: "artefact", at: path(of: artefact), expected: artefact.sha256))
        }
        for model in lock.models {
            checks.append(
                ArtefactCheck.hash(model.gguf, kind: "model", at: modelFile(model), expected: model.ggufSHA256))
        }
        let binary = serverBinary(lock.server)
        if installed.serverRecipeSHA256 != lock.server.recipeDigest {
            checks.append(
                ArtefactCheck(
                    name: lock.server.name, kind: "server", path: binary.path, expected: lock.server.recipeDigest,
                    actual: installed.serverRecipeSHA256,
                    problem: "built from another recipe or source than the lock pins (run airlock model install)"))
        } else {
            checks.append(
                ArtefactCheck.hash(lock.server.name, kind: "server", at: binary, expected: installed.serverSHA256))
        }
        return checks
    }
}

/// One artefact re-hashed: what was expected, what was found.
public struct ArtefactCheck: Sendable, Hashable {
    /// The artefact's name (a file name, or the server's name).
    public var name: String
    /// `artefact`, `model` or `server`.
    public var kind: String
    /// Where it is.
    public var path: String
    /// The pinned (or, for the built server, recorded) SHA-256.
    public var expected: String
    /// The SHA-256 found, or `nil` when the file is missing or unreadable.
    public var actual: String?
    /// Why the check failed, or `nil` when it passed.
    public var problem: String?

    /// Whether the file is there with the expected digest.
    public var passed: Bool { problem == nil }

    /// Hashes `url` and compares with `expected`.
    static func hash(_ name: String, kind: String, at url: URL, expected: String) -> ArtefactCheck {
        let actual = try? SHA256.hex(contentsOf: url)
        let problem: String? =
            switch actual {
            case nil: "missing or unreadable"
            case expected?: nil
            default: "digest differs from its pin"
            }
        return ArtefactCheck(
            name: name, kind: kind, path: url.path, expected: expected, actual: actual, problem: problem)
    }

    /// The check as JSON (for `--json` and the doctor).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "kind": .string(kind), "path": .string(path), "expected": .string(expected),
            "passed": .bool(passed),
        ]
        object["actual"] = actual.map { .string($0) } ?? .null
        if let problem { object["problem"] = .string(problem) }
        return .object(object)
    }
}

/// What `airlock model install` installed: the lock it followed and every digest.
public struct InstalledModel: Sendable, Hashable {
    /// The SHA-256 of the lock file followed.
    public var lockSHA256: String
    /// When it was installed (ISO 8601, UTC).
    public var installedAt: String
    /// The SHA-256 of the built server binary.
    public var serverSHA256: String
    /// The recipe digest the server was built with (``ModelLock/Server/recipeDigest``).
    public var serverRecipeSHA256: String
    /// How long the build took, in seconds (0 when an earlier build was reused).
    public var buildSeconds: Double

    /// Creates a record.
    public init(
        lockSHA256: String, installedAt: String, serverSHA256: String, serverRecipeSHA256: String,
        buildSeconds: Double
    ) {
        self.lockSHA256 = lockSHA256
        self.installedAt = installedAt
        self.serverSHA256 = serverSHA256
        self.serverRecipeSHA256 = serverRecipeSHA256
        self.buildSeconds = buildSeconds
    }

    init?(json: JSONValue) {
        guard let lock = json["lock_sha256"]?.stringValue, let at = json["installed_at"]?.stringValue,
            let server = json["server_sha256"]?.stringValue, let recipe = json["server_recipe_sha256"]?.stringValue
        else { return nil }
        self.init(
            lockSHA256: lock, installedAt: at, serverSHA256: server, serverRecipeSHA256: recipe,
            buildSeconds: json["build_seconds"]?.doubleValue ?? 0)
    }

    /// The record as JSON.
    public var json: JSONValue {
        [
            "lock_sha256": .string(lockSHA256), "installed_at": .string(installedAt),
            "server_sha256": .string(serverSHA256), "server_recipe_sha256": .string(serverRecipeSHA256),
            "build_seconds": .number(buildSeconds),
        ]
    }
}
