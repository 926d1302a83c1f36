import AirlockCore
import ArgumentParser
import Foundation
import Runs
import Trace
import TracePostgres

/// Options shared by the `airlock trace` subcommands: which database, which keys.
struct TraceOptions: ParsableArguments {
    @Option(
        name: .long,
        help:
            "The trace: a SQLite file (PATH or sqlite:PATH) or postgres://USER@HOST[:PORT]/DB (default: site.yaml trace:, else $AIRLOCK_HOME/trace.sqlite)."
    )
    var database: String?

    /// Opens the trace database.
    func store(readOnly: Bool = false) throws -> TraceStore {
        let location = try TraceCLI.location(database)
        return try CLI.run { () throws(TraceError) in try location.open(readOnly: readOnly) }
    }
}

/// Error reporting and key loading shared by the trace commands.
enum TraceCLI {
    /// The trace `text` names, or else the site's (`site.yaml` `trace:`), or else the home's file.
    static func location(_ text: String?) throws -> TraceLocation {
        let chosen: String
        if let text {
            chosen = text
        } else {
            let home = try AirlockHome.resolve()
            do {
                chosen = try home.site().trace ?? home.traceDatabase.path
            } catch {
                throw CLI.fail(error)
            }
        }
        do {
            return try TraceLocation(chosen)
        } catch {
            printError("error: --database: \(error.description)")
            throw ExitCode.usage
        }
    }

    /// The keys to trust: exactly the files given with `--key`, or else the local trace key (if it
    /// exists) and every key of the home's trust store (`airlock trace trust`).
    static func trustedKeys(_ files: [String]) throws -> [TracePublicKey] {
        if !files.isEmpty {
            return try files.map { file in
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("error: cannot read public key file \(file)\n".utf8))
                    throw ExitCode.noInput
                }
                return try CLI.run { () throws(TraceError) in
                    try TracePublicKey(text: String(decoding: data, as: UTF8.self))
                }
            }
        }
        let home = try AirlockHome.resolve()
        var keys = try CLI.run { () throws(TraceError) in try TraceTrustStore(keysDirectory: home.keys).keys() }
        let path = home.keys.appendingPathComponent(TraceSigningKey.fileName).path
        if FileManager.default.fileExists(atPath: path) {
            keys.insert(try CLI.run { () throws(TraceError) in try TraceSigningKey.load(path: path).publicKey }, at: 0)
        }
        return keys
    }

    /// The local signing key, created on first use.
    static func signingKey() throws -> TraceSigningKey {
        let keys = try AirlockHome.resolve().keys
        return try CLI.run { () throws(TraceError) in try TraceSigningKey.loadOrCreate(directory: keys) }
    }

    /// Writes `text` to stdout with a trailing newline.
    /// Everything printed here holds recorded text (the model's, the tools'), so it is escaped
    /// for the terminal; JSON stays JSON.
    static func print(_ text: String) {
        let text = TerminalText.escape(text, keepsLineBreaks: true)
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") || text.isEmpty ? text : text + "\n").utf8))
    }
}
