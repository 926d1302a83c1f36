import AirlockCore
import ArgumentParser
import Foundation
import Runs
import Trace

/// `airlock trace trust add FILE [--name N] | list | remove NAME`: the keys this home trusts for
/// trace checkpoints besides its own (a site's public key in a review enclave).
struct TraceTrustCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust", abstract: "Manage the public keys whose runs this home trusts.",
        subcommands: [Add.self, List.self, Remove.self])

    /// The store of this home.
    static func store() throws -> TraceTrustStore {
        TraceTrustStore(keysDirectory: try AirlockHome.resolve().keys)
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Trust a public key file (PEM, as `airlock trace key --export` prints, or 64 hex digits).")
        @Argument(help: "The public key file.") var file: String
        @Option(help: "A name for it (default: the file's name without extension).") var name: String?

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                printError("error: cannot read public key file \(file)")
                throw ExitCode.noInput
            }
            let label = name ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            let store = try TraceTrustCommand.store()
            let (entry, added) = try CLI.run { () throws(TraceError) in
                try store.add(TracePublicKey(text: String(decoding: data, as: UTF8.self)), name: label)
            }
            TraceCLI.print(
                added
                    ? "trusted \(entry.keyID) as \(entry.name)"
                    : "already trusted: \(entry.keyID) as \(entry.name) (nothing changed)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the trusted keys.")
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let store = try TraceTrustCommand.store()
            let entries = try CLI.run { () throws(TraceError) in try store.entries() }
            if json {
                TraceCLI.print(
                    JSONValue.array(
                        entries.map {
                            [
                                "name": .string($0.name), "key_id": .string($0.keyID),
                                "public_key": .string($0.publicKey), "added_at": .string($0.addedAt),
                            ]
                        }
                    ).prettyString)
                return
            }
            if entries.isEmpty {
                TraceCLI.print("no trusted keys besides this home's own (airlock trace trust add FILE)")
            }
            for entry in entries { TraceCLI.print("\(entry.name)  \(entry.keyID)  added \(entry.addedAt)") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop trusting a key, by name or key id.")
        @Argument(help: "The key's name or id.") var key: String

        func run() async throws {
            let store = try TraceTrustCommand.store()
            guard let removed = try CLI.run({ () throws(TraceError) in try store.remove(key) }) else {
                printError("error: no trusted key named \(key) (see `airlock trace trust list`)")
                throw ExitCode.noInput
            }
            TraceCLI.print("no longer trusted: \(removed.keyID) (\(removed.name))")
        }
    }
}
