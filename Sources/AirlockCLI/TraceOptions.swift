import AirlockCore
import ArgumentParser
import Foundation
import Trace

/// Options shared by the `airlock trace` subcommands: which database, which keys.
struct TraceOptions: ParsableArguments {
    @Option(name: .long, help: "The trace database (default: $AIRLOCK_HOME/trace.sqlite).")
    var database: String?

    /// Opens the trace database.
    func store(readOnly: Bool = false) throws -> TraceStore {
        let path = try database ?? AirlockHome.resolve().traceDatabase.path
        if readOnly, !FileManager.default.fileExists(atPath: path) {
            throw TraceCLI.fail(TraceError(.runNotFound, "no trace database at \(path) (nothing recorded yet)"))
        }
        return try TraceCLI.run { () throws(TraceError) in
            try TraceStore(path: path, configuration: .init(readOnly: readOnly))
        }
    }
}

/// Error reporting and key loading shared by the trace commands.
enum TraceCLI {
    /// Runs `body`, turning a ``TraceError`` into a message on stderr and the matching exit code.
    static func run<T>(_ body: () throws(TraceError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw fail(error)
        }
    }

    /// Prints `error` and returns the exit code for it.
    static func fail(_ error: TraceError) -> ExitCode {
        let text = TerminalText.escape("error: [\(error.code.rawValue)] \(error.description)", keepsLineBreaks: true)
        FileHandle.standardError.write(Data((text + "\n").utf8))
        switch error.code {
        case .runNotFound: return .noInput
        case .invalidRunID: return .usage
        case .malformedExport, .invalidEvent: return .dataError
        // A run already in the trace is refused like one that does not verify: nothing changed.
        case .importRejected, .runExists: return .checkFailed
        default: return .ioError
        }
    }

    /// The keys to trust: the files given with `--key`, or else the local trace key if it exists.
    static func trustedKeys(_ files: [String]) throws -> [TracePublicKey] {
        if !files.isEmpty {
            return try files.map { file in
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw fail(TraceError(.keyInvalid, "cannot read public key file \(file)"))
                }
                return try run { () throws(TraceError) in
                    try TracePublicKey(text: String(decoding: data, as: UTF8.self))
                }
            }
        }
        let path = try AirlockHome.resolve().keys.appendingPathComponent(TraceSigningKey.fileName).path
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return [try run { () throws(TraceError) in try TraceSigningKey.load(path: path).publicKey }]
    }

    /// The local signing key, created on first use.
    static func signingKey() throws -> TraceSigningKey {
        let keys = try AirlockHome.resolve().keys
        return try run { () throws(TraceError) in try TraceSigningKey.loadOrCreate(directory: keys) }
    }

    /// Writes `text` to stdout with a trailing newline.
    /// Everything printed here holds recorded text (the model's, the tools'), so it is escaped
    /// for the terminal; JSON stays JSON.
    static func print(_ text: String) {
        let text = TerminalText.escape(text, keepsLineBreaks: true)
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") || text.isEmpty ? text : text + "\n").utf8))
    }
}
