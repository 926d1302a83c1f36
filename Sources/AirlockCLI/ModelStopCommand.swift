import ArgumentParser
import Foundation
import ModelRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock model stop`: stops the background model server.
struct ModelStopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop the model server started by airlock run or model serve --background.")

    /// How long the supervisor gets to stop the server before it is killed, in seconds.
    static let graceSeconds: Double = 10

    func run() throws {
        let (home, _) = try ModelCLI.home()
        print(Self.stop(home: home) ?? "no model server is running")
    }

    /// Stops the running model server of `home`: SIGTERM to its supervisor, SIGKILL after
    /// ``graceSeconds``. Returns what happened, or `nil` when none was running.
    static func stop(home: AirlockHome) -> String? {
        guard let state = ModelServerState.read(home.modelServerState), state.supervisorAlive,
            state.status != "stopped"
        else { return nil }
        kill(state.supervisorPID, SIGTERM)
        let deadline = Date(timeIntervalSinceNow: Self.graceSeconds)
        while Date() < deadline, kill(state.supervisorPID, 0) == 0 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        if kill(state.supervisorPID, 0) == 0 {
            kill(state.supervisorPID, SIGKILL)
            return "model server supervisor \(state.supervisorPID) killed after \(Int(Self.graceSeconds)) s"
        }
        return "stopped the model server (supervisor pid \(state.supervisorPID))"
    }
}
