import ArgumentParser
import Foundation
import Sandbox

/// `airlock sandbox probe`: what this host supports, each with a yes/no and why.
struct SandboxProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Report which confinement layers this host supports, and why not where not.",
        discussion: """
            Exit code 0 when every confinement layer is available, 1 otherwise. Features marked \
            '-' only make starts faster; their absence costs time, not confinement.
            """
    )

    @Flag(help: "Print the probe as JSON.")
    var json = false

    func run() throws {
        let probe = SandboxProbe.current
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(probe))
            print("")
        } else {
            let width = probe.features.map(\.name.count).max() ?? 0
            for feature in probe.features {
                let name = feature.name.padding(toLength: width, withPad: " ", startingAt: 0)
                let mark = feature.available ? "yes" : (feature.isLayer ? "no " : "-  ")
                print("\(mark)  \(name)  \(feature.detail)")
            }
            print("running as \(probe.runningAsRoot ? "root" : "an unprivileged user")")
        }
        if !probe.allLayersAvailable { throw ExitCode.checkFailed }
    }
}
