import AirlockCore
import ArgumentParser
import Doctor
import Foundation
import ModelRuntime
import Runs

/// `airlock doctor`: checks that the air gap holds on this host and prints the evidence.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check that the air gap holds here: endpoint, networks, environment, pins, keys, trace, sandbox.",
        discussion: """
            One line per check (PASS, WARN, FAIL or SKIP), its evidence indented below, then a summary. \
            See docs/doctor.md for what each check proves.
            Exit codes: 0 no check failed (warnings and skips allowed), 1 a check failed.
            """)

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "Check this model endpoint instead of the embedded model's socket (unix:PATH, http://HOST:PORT).")
    var model: String?

    @Flag(help: "Start the embedded model server for the check if it is not running, and stop it afterwards.")
    var startModel = false

    func run() async throws {
        let home: AirlockHome
        do {
            home = try AirlockHome.resolve()
        } catch {
            printError("error: cannot create AIRLOCK_HOME: \(ToolsCLI.describe(error))")
            throw ExitCode.ioError
        }
        let started = startModel ? startServer(home) : (started: false, failure: nil)
        let checkoutLock = ToolsCLI.url("manifests/models.lock")
        let doctor = Doctor(
            configuration: DoctorConfiguration(
                home: home.root, keys: home.keys,
                // The secret store's directory (written by `airlock secrets`); checked by path and mode.
                secrets: home.root.appendingPathComponent("secrets", isDirectory: true),
                siteFile: home.siteFile, modelDirectory: home.modelDirectory,
                embeddedSocket: home.modelRuntime.appendingPathComponent(ModelServer.defaultSocketName),
                modelServerState: home.modelServerState, registryHome: home.root, traceDatabase: home.traceDatabase,
                modelEndpoint: model,
                checkoutLock: FileManager.default.fileExists(atPath: checkoutLock.path) ? checkoutLock : nil,
                modelServerStartFailure: started.failure))
        let report = await doctor.run()
        if started.started, let stopped = home.modelBackground.stop() {
            printError("doctor: \(stopped)")
        }
        print(json ? report.json.prettyString : report.text, terminator: json ? "\n" : "")
        if !report.passed { throw ExitCode.checkFailed }
    }

    /// Starts the embedded model server when it is not running. Returns whether this command
    /// started it (and so must stop it), or why it could not.
    private func startServer(_ home: AirlockHome) -> (started: Bool, failure: String?) {
        if let state = ModelServerState.read(home.modelServerState), state.supervisorAlive, state.status != "stopped" {
            return (false, nil)
        }
        let store = ModelStore(root: home.modelDirectory)
        guard (try? store.installed()) != nil, let lock = try? ModelLock.load(store.lockFile) else {
            return (
                false, "--start-model: no embedded model is installed in \(store.root.path) (airlock model install)"
            )
        }
        do {
            let server = try ModelCLI.server(home: home, store: store, lock: lock, model: nil, settings: .init())
            _ = try ModelCLI.ensureRunning(home: home, server: server) { printError("doctor: \($0)") }
            return (true, nil)
        } catch {
            return (
                false,
                "--start-model: the server did not become ready (see the error above and \(home.modelServerLog.path))"
            )
        }
    }
}
