import AirlockCore
import ArgumentParser
import Foundation
import Model
import ModelRuntime
import Runs

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock model …`: install, verify and serve the embedded local model (see docs/models.md).
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Install, verify and serve the embedded local model (pinned, built and served confined).",
        subcommands: [
            ModelInstallCommand.self, ModelVerifyCommand.self, ModelServeCommand.self, ModelStopCommand.self,
            ModelStatusCommand.self,
        ]
    )
}

/// What the `model` subcommands share: the home, the store, the lock, error reporting, and
/// starting the server in the background.
enum ModelCLI {
    /// The lock file: `--lock`, else `manifests/models.lock` under the current directory, else the
    /// copy kept with the installation.
    static func lockURL(explicit: String?, store: ModelStore) throws -> URL {
        let candidates = explicit.map { [ToolsCLI.url($0)] } ?? [ToolsCLI.url("manifests/models.lock"), store.lockFile]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            printError(
                "error: no model lock: \(candidates.map(\.path).joined(separator: " or ")) does not exist (pass --lock FILE, or run from Airlock's checkout)"
            )
            throw ExitCode.noInput
        }
        return found
    }

    /// The lock, read from ``lockURL(explicit:store:)``.
    static func lock(explicit: String?, store: ModelStore) throws -> ModelLock {
        do {
            return try ModelLock.load(try lockURL(explicit: explicit, store: store))
        } catch let error as ModelRuntimeError {
            throw CLI.fail(error)
        }
    }

    /// The home and the model store in it.
    static func home() throws -> (AirlockHome, ModelStore) {
        let (home, _) = try ToolsCLI.registry()
        return (home, ModelStore(root: home.modelDirectory))
    }

    /// The server for `model` (default: the lock's default), served from `home`.
    static func server(
        home: AirlockHome, store: ModelStore, lock: ModelLock, model name: String?, settings: ModelServer.Settings,
        socket: String? = nil
    ) throws -> ModelServer {
        let model: ModelLock.Model
        if let name {
            guard let found = lock.model(named: name) else {
                printError(
                    "error: --model-name \(name): the lock has \(lock.models.map(\.name).joined(separator: ", "))")
                throw ExitCode.usage
            }
            model = found
        } else {
            model = lock.defaultModel
        }
        return ModelServer(
            store: store, lock: lock, model: model,
            runtimeDirectory: socket.map { ToolsCLI.url($0).deletingLastPathComponent() } ?? home.modelRuntime,
            socketName: socket.map { ToolsCLI.url($0).lastPathComponent } ?? ModelServer.defaultSocketName,
            settings: settings)
    }

    /// Returns a ready server's state: the home's running one, else a new background supervisor's
    /// once its server answers (``ModelBackground/ensureRunning(_:announce:)``).
    static func ensureRunning(home: AirlockHome, server: ModelServer, announce: (String) -> Void) throws
        -> ModelServerState
    {
        do {
            return try home.modelBackground.ensureRunning(server, announce: announce)
        } catch {
            throw CLI.fail(error)
        }
    }
}
