import AirlockCore
import ArgumentParser
import Foundation
import Runs
import Trace

/// Options shared by the `airlock trace` subcommands: which database, which keys.
struct TraceOptions: ParsableArguments {
    @Option(name: .long, help: "The trace database (default: $AIRLOCK_HOME/trace.sqlite).")
    var database: String?

    /// Opens the trace database.
    func store(readOnly: Bool = false) throws -> TraceStore {
        let path = try database ?? AirlockHome.resolve().traceDatabase.path
        if readOnly, !FileManager.default.fileExists(atPath: path) {
            throw CLI.fail(TraceError(.runNotFound, "no trace database at \(path) (nothing recorded yet)"))
        }
        return try CLI.run { () throws(TraceError) in
            try TraceStore(path: path, configuration: .init(readOnly: readOnly))
        }
    }
}

/// Error reporting and key loading shared by the trace commands.
enum TraceCLI {
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
