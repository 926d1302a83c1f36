import AirlockCore
import Foundation
import Synchronization

/// The console's audit log: one JSON line per run read, approval answered, verdict recorded and
/// sign-in, each naming the principal, appended to `AIRLOCK_HOME/console-audit.jsonl` (mode 0600).
/// It is a log, not evidence: answers and verdicts are also in the trace, signed.
public final class ConsoleAudit: Sendable {
    /// The log file.
    public let path: String
    private let lock = Mutex(())

    /// Opens (creating) the log.
    /// - Throws: ``ConsoleError`` `state` when the file cannot be created.
    public init(path: String) throws(ConsoleError) {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            else { throw ConsoleError(.state, "cannot create the console's audit log \(path)") }
        }
        guard FileManager.default.isWritableFile(atPath: path) else {
            throw ConsoleError(.state, "cannot write the console's audit log \(path)")
        }
    }

    /// Appends one entry: `{"at": …, "principal": …, "action": …, …fields}`.
    public func record(principal: String, action: String, _ fields: [String: String] = [:]) {
        var object: [String: JSONValue] = fields.mapValues(JSONValue.string)
        object["at"] = .string(HTML.time(Int64(Date().timeIntervalSince1970 * 1e9)))
        object["principal"] = .string(principal)
        object["action"] = .string(action)
        let line = Data((JSONValue.object(object).canonicalString + "\n").utf8)
        lock.withLock { _ in
            guard let handle = FileHandle(forWritingAtPath: path) else { return }
            defer { try? handle.close() }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: line)
        }
    }
}
