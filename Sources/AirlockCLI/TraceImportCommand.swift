import ArgumentParser
import Foundation
import Trace

/// `airlock trace import FILE [--key PUBKEY]`: the transfer gate into a review enclave.
struct TraceImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a JSONL export after verifying it against a trusted key.")

    @OptionGroup var options: TraceOptions
    @Argument(help: "The JSONL export.") var file: String
    @Option(
        name: .long,
        help: "A trusted public key file (PEM or hex); repeatable. Default: the local key and `trace trust` keys.")
    var key: [String] = []
    @Option(name: .long, help: "The largest file accepted, in bytes.") var maxBytes = 1 << 30

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLI.fail(TraceError(.runNotFound, "cannot read \(file)"))
        }
        guard data.count <= maxBytes else {
            throw CLI.fail(
                TraceError(.malformedExport, "\(file) is \(data.count) bytes, above --max-bytes \(maxBytes)"))
        }
        let trusted = try TraceCLI.trustedKeys(key)
        let store = try options.store()
        let ledgerKey = try TraceCLI.signingKey()
        let outcome = try CLI.run { () throws(TraceError) in
            try TraceImport.verifyAndStore(
                String(decoding: data, as: UTF8.self), into: store, trustedKeys: trusted, ledgerKey: ledgerKey)
        }
        TraceCLI.print(
            outcome.alreadyPresent
                ? "already imported: \(outcome.verification.summary) (nothing changed)"
                : "imported \(outcome.verification.summary)")
    }
}
