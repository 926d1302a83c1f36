import ArgumentParser
import Foundation
import Trace
import TracePostgres

/// `airlock trace copy --from LOCATION --to LOCATION`: runs from one trace store into another
/// (SQLite to PostgreSQL and back), each verified against the trusted keys before it is stored.
struct TraceCopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy runs between trace stores (sqlite:PATH, postgres://…), verifying each first.",
        discussion: """
            Each run is verified against the trusted keys and stored in one transaction with an \
            `imported` ledger entry signed by the local key, as `trace import` does. Runs still \
            recording (no run.finished) are skipped unless --include-incomplete. A run already \
            present with the same events is left as it is.
            Exit codes: 0 copied, 1 a run did not verify or exists with other events, 64 a bad \
            location, 66 an unknown --run, 74 a store could not be used.
            """)

    @Option(name: .long, help: "The source trace: PATH, sqlite:PATH or postgres://USER@HOST[:PORT]/DB.")
    var from: String
    @Option(name: .long, help: "The destination trace (created if a SQLite file does not exist).")
    var to: String
    @Option(name: .long, help: "Copy only this run; repeatable. Default: every run.")
    var run: [String] = []
    @Flag(name: .long, help: "Also copy runs without run.finished.")
    var includeIncomplete = false
    @Option(
        name: .long,
        help: "A trusted public key file (PEM or hex); repeatable. Default: the local key and `trace trust` keys.")
    var key: [String] = []

    func run() async throws {
        let source = try TraceCLI.location(from)
        let destination = try TraceCLI.location(to)
        guard source != destination else {
            FileHandle.standardError.write(Data("error: --from and --to are the same trace (\(source))\n".utf8))
            throw ExitCode.usage
        }
        let trusted = try TraceCLI.trustedKeys(key)
        let ledgerKey = try TraceCLI.signingKey()
        let from = try CLI.run { () throws(TraceError) in try source.open(readOnly: true) }
        let into = try CLI.run { () throws(TraceError) in try destination.open() }
        let outcome = try CLI.run { () throws(TraceError) in
            try TraceCopy.copy(
                from: from, to: into, runIDs: run.isEmpty ? nil : run, trustedKeys: trusted, ledgerKey: ledgerKey,
                includeIncomplete: includeIncomplete)
        }
        for id in outcome.copied { TraceCLI.print("copied \(id)") }
        for id in outcome.alreadyPresent { TraceCLI.print("already present \(id) (nothing changed)") }
        for id in outcome.skipped { TraceCLI.print("skipped \(id): no run.finished (--include-incomplete copies it)") }
        TraceCLI.print(
            "\(outcome.copied.count) copied, \(outcome.alreadyPresent.count) already present, \(outcome.skipped.count) skipped: \(source) -> \(destination)"
        )
    }
}
