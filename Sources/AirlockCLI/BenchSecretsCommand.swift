import ArgumentParser
import Foundation
import Secrets

/// `airlock bench secrets`: the redactor's cost per MiB and per short string, and a store round trip.
struct BenchSecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets", abstract: "Time secret redaction and a store round trip.")

    @Option(help: "Secrets the redactor knows.")
    var secrets = 50

    @Option(help: "Short strings timed.")
    var shortStrings = 100_000

    func run() async throws {
        let figures = try SecretsCLI.run { () throws(SecretsError) in
            try SecretsBenchmark(secrets: secrets, shortStrings: shortStrings).run()
        }
        func ms(_ seconds: Double) -> String { String(format: "%.2f ms", seconds * 1000) }
        print("secret redaction: \(figures.secrets) secrets (\(figures.secrets * 9)+ forms)")
        print("  1 MiB, no secret            \(ms(figures.cleanMiB))")
        print("  1 MiB, a secret every 4 KiB \(ms(figures.dirtyMiB)) (\(figures.replacements) replaced)")
        print("  short string, no secret     \(String(format: "%.0f ns", figures.shortString))")
        print("  store set + read            \(ms(figures.storeRoundTrip)) (\(figures.secrets + 1) entries)")
    }
}
