import ArgumentParser
import Trace

/// `airlock trace verify RUN | --all [--key PUBKEY]`: recompute chains and signatures offline.
struct TraceVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify runs offline; exit 0 when every run is intact (or incomplete without --strict).")

    @OptionGroup var options: TraceOptions
    @Argument(help: "The run id.") var run: String?
    @Flag(name: .long, help: "Verify every run.") var all = false
    @Option(
        name: .long,
        help: "A trusted public key file (PEM or hex); repeatable. Default: the local key and `trace trust` keys.")
    var key: [String] = []
    @Flag(name: .long, help: "Treat incomplete runs (no run.finished) as failures.") var strict = false

    func validate() throws {
        guard (run == nil) == all else { throw ValidationError("give either a RUN or --all") }
    }

    func run() async throws {
        let store = try options.store()
        let trusted = try TraceCLI.trustedKeys(key)
        let verifier = TraceVerifier(trustedKeys: trusted)
        let ids: [String]
        if let run {
            ids = [run]
        } else {
            ids = try CLI.run { () throws(TraceError) in try store.runs().map(\.runID) }
        }
        var failed = false
        for id in ids {
            let result = try CLI.run { () throws(TraceError) in try verifier.verify(runID: id, in: store) }
            TraceCLI.print(result.summary)
            if result.status == .broken || (strict && result.status == .incomplete) { failed = true }
        }
        if all {
            // Whole runs deleted, rows re-created or rewritten: the ledger against the index.
            let ledger = try CLI.run { () throws(TraceError) in try store.verifyLedger(trustedKeys: trusted) }
            TraceCLI.print(ledger.summary)
            if !ledger.intact { failed = true }
        }
        if failed { throw ExitCode.checkFailed }
    }
}
