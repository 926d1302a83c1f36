import AirlockCore
import ArgumentParser
import Foundation
import Model
import ModelRuntime

/// `airlock model status`: what is installed and whether the server runs and answers.
struct ModelStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the installed model and the server's state.",
        discussion: "Exit codes: 0 installed and serving, 1 installed but not serving, 66 nothing installed.")

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let (home, store) = try ModelCLI.home()
        let installed: InstalledModel?
        do {
            installed = try store.installed()
        } catch {
            throw CLI.fail(error)
        }
        let lock = try? ModelLock.load(store.lockFile)
        // The supervisor's state, when a supervisor is alive and has not stopped.
        let serving = ModelServerState.read(home.modelServerState).flatMap {
            $0.supervisorAlive && $0.status != "stopped" ? $0 : nil
        }
        let health =
            serving.flatMap {
                try? OpenAIChatClient(endpoint: .unix(path: $0.socket, requestPath: ModelEndpoint.defaultRequestPath))
            }?.health() ?? .unreachable("not running")
        if json {
            print(
                JSONValue.object([
                    "store": .string(store.root.path), "installed": installed?.json ?? .null,
                    "default_model": lock.map { .string($0.defaultModel.name) } ?? .null,
                    "server": serving?.json ?? .null, "health": .string(health.description),
                ]).prettyString)
        } else {
            print("store:     \(store.root.path)")
            if let installed, let lock {
                let model = lock.defaultModel
                print("installed: \(model.name) (\(model.gguf) sha256 \(model.ggufSHA256)) at \(installed.installedAt)")
                print("server:    \(lock.server.name) sha256 \(installed.serverSHA256)")
            } else {
                print("installed: nothing (run airlock model install)")
            }
            if let state = serving {
                print("serving:   \(state.model) on unix:\(state.socket), \(health)")
                print(
                    "           supervisor pid \(state.supervisorPID), server pid \(state.serverPID.map(String.init) ?? "-"), restarts \(state.restarts), since \(state.startedAt)"
                )
                let own =
                    state.ownNetworkNamespace.map { $0 ? "its own network namespace" : "THE HOST'S network namespace" }
                    ?? "?"
                print("           network: \(own), interfaces \(state.interfaces?.joined(separator: ",") ?? "?")")
            } else {
                print("serving:   no (airlock model serve, or airlock run starts it)")
            }
        }
        if installed == nil { throw ExitCode.noInput }
        if !health.isReady { throw ExitCode.checkFailed }
    }
}
