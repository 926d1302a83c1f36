import ArgumentParser
import Foundation
import Runs

/// `airlock model stop`: stops the background model server.
struct ModelStopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop the model server started by airlock run or model serve --background.")

    func run() throws {
        let (home, _) = try ModelCLI.home()
        print(home.modelBackground.stop() ?? "no model server is running")
    }
}
