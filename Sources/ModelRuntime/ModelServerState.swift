import AirlockCore
import Foundation
import Sandbox

#if canImport(Glibc)
    import Glibc
#endif

/// What the supervisor of the model server writes for others to read (`airlock model status`,
/// `airlock run`, `airlock doctor`): `AIRLOCK_HOME/run/model-server.json`, outside the server's
/// writable directory so the server cannot alter it.
public struct ModelServerState: Sendable, Hashable {
    /// `starting`, `ready`, `restarting`, `failed` or `stopped`.
    public var status: String
    /// The supervisor's process id.
    public var supervisorPID: Int32
    /// The server's process id on the host, once found.
    public var serverPID: Int32?
    /// The socket's host path.
    public var socket: String
    /// The model's name and SHA-256.
    public var model: String
    /// The served GGUF's SHA-256.
    public var modelSHA256: String
    /// The server binary's SHA-256.
    public var serverSHA256: String
    /// When the supervisor started (ISO 8601).
    public var startedAt: String
    /// How many times the server was restarted.
    public var restarts: Int
    /// How the last server life ended, if one did.
    public var lastExit: String?
    /// The network interfaces the server sees (read from `/proc/PID/net/dev`), once found.
    public var interfaces: [String]?
    /// Whether the server's network namespace differs from the supervisor's.
    public var ownNetworkNamespace: Bool?

    /// Creates a state.
    public init(
        status: String, supervisorPID: Int32, socket: String, model: String, modelSHA256: String,
        serverSHA256: String, startedAt: String, restarts: Int = 0
    ) {
        self.status = status
        self.supervisorPID = supervisorPID
        self.socket = socket
        self.model = model
        self.modelSHA256 = modelSHA256
        self.serverSHA256 = serverSHA256
        self.startedAt = startedAt
        self.restarts = restarts
    }

    /// The state as JSON.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "status": .string(status), "supervisor_pid": .integer(Int64(supervisorPID)), "socket": .string(socket),
            "model": .string(model), "model_sha256": .string(modelSHA256), "server_sha256": .string(serverSHA256),
            "started_at": .string(startedAt), "restarts": .integer(Int64(restarts)),
        ]
        object["server_pid"] = serverPID.map { .integer(Int64($0)) } ?? .null
        object["last_exit"] = lastExit.map { .string($0) } ?? .null
        object["interfaces"] = interfaces.map { .array($0.map { .string($0) }) } ?? .null
        object["own_network_namespace"] = ownNetworkNamespace.map { .bool($0) } ?? .null
        return .object(object)
    }

    /// Reads a state from JSON, or `nil` when fields are missing.
    public init?(json: JSONValue) {
        guard let status = json["status"]?.stringValue, let pid = json["supervisor_pid"]?.integerValue,
            let socket = json["socket"]?.stringValue, let model = json["model"]?.stringValue,
            let modelSHA = json["model_sha256"]?.stringValue, let serverSHA = json["server_sha256"]?.stringValue,
            let started = json["started_at"]?.stringValue
        else { return nil }
        self.init(
            status: status, supervisorPID: Int32(pid), socket: socket, model: model, modelSHA256: modelSHA,
            serverSHA256: serverSHA, startedAt: started, restarts: Int(json["restarts"]?.integerValue ?? 0))
        serverPID = json["server_pid"]?.integerValue.map { Int32($0) }
        lastExit = json["last_exit"]?.stringValue
        interfaces = json["interfaces"]?.arrayValue?.compactMap(\.stringValue)
        ownNetworkNamespace = json["own_network_namespace"]?.boolValue
    }

    /// Reads the state file; `nil` when there is none or it is unreadable.
    public static func read(_ url: URL) -> ModelServerState? {
        guard let data = FileManager.default.contents(atPath: url.path),
            let json = try? JSONParser().parse(Array(data))
        else { return nil }
        return ModelServerState(json: json)
    }

    /// Writes the state file atomically.
    func write(_ url: URL) throws(ModelRuntimeError) {
        try FileOperations.writeAtomically(Array(json.prettyString.utf8), to: url, mode: 0o644)
    }

    /// Whether the supervisor is alive: the process the state names exists and is an Airlock
    /// model supervisor (its command line), so a pid reused by another program is not taken for it.
    public var supervisorAlive: Bool { supervisor != nil }

    /// The supervisor, held by a pidfd, when it is alive (see ``supervisorAlive``).
    public var supervisor: ProcessHandle? {
        guard let handle = ProcessHandle(pid: supervisorPID), let arguments = handle.commandLine,
            arguments.contains(ModelBackground.supervisorFlag)
        else { return nil }
        return handle
    }
}

/// Facts about a process's network, read from `/proc`: the interfaces it sees and whether its
/// network namespace is the caller's.
public enum ProcessNetwork {
    /// The interface names in `/proc/PID/net/dev`, or `nil` when unreadable.
    public static func interfaces(pid: Int32) -> [String]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/net/dev", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").dropFirst(2).compactMap { line in
            line.split(separator: ":", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// Whether `pid`'s network namespace differs from this process's, or `nil` when unreadable.
    public static func hasOwnNamespace(pid: Int32) -> Bool? {
        guard let theirs = namespaceLink(pid: "\(pid)"), let ours = namespaceLink(pid: "self") else { return nil }
        return theirs != ours
    }

    /// The network namespace of `pid` (`net:[INODE]`, the `/proc/PID/ns/net` link), or `nil`
    /// when unreadable; `airlock doctor` shows it beside the host's.
    public static func networkNamespace(pid: Int32) -> String? { namespaceLink(pid: "\(pid)") }

    private static func namespaceLink(pid: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
    }

    /// The host pid of a descendant of `ancestor` whose command line starts with `program` and
    /// contains `argument`, searched in `/proc`.
    public static func findDescendant(of ancestor: Int32, program: String, argument: String) -> Int32? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
            else { continue }
            let argv = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard argv.first == program, argv.contains(argument) else { continue }
            var current = pid
            for _ in 0..<8 {
                guard let parent = parentPID(current), parent > 1 else { break }
                if parent == ancestor { return pid }
                current = parent
            }
        }
        return nil
    }

    private static func parentPID(_ pid: Int32) -> Int32? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("PPid:") {
            return Int32(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
