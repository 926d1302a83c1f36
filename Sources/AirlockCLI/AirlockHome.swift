import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where Airlock keeps everything: `AIRLOCK_HOME`, default `~/.local/share/airlock`, or
/// `/var/lib/airlock` when Airlock runs as root.
///
/// The CLI resolves it once and hands explicit paths to the modules; no module reads the
/// environment itself. The directory is 0711: others may pass through it (the sandbox user must
/// reach a run's workspace and the registry's stored executables inside it) but not list it;
/// keys, databases and workspaces below it keep their own tighter modes.
struct AirlockHome {
    /// The root directory.
    let root: URL

    /// The tool registry database.
    var registryDatabase: URL { root.appendingPathComponent("registry.sqlite") }
    /// The trace database.
    var traceDatabase: URL { root.appendingPathComponent("trace.sqlite") }
    /// Keys, one per purpose, mode 0600.
    var keys: URL { root.appendingPathComponent("keys", isDirectory: true) }
    /// The secret store's directory (0700), holding `store.sealed` (0600).
    var secrets: URL { root.appendingPathComponent("secrets", isDirectory: true) }
    /// The key the secret store is sealed with (0600), used for nothing else.
    var secretsKey: URL { keys.appendingPathComponent("secrets.key") }
    /// The key per-call tokens are signed with (0600), used for nothing else.
    var tokenSigningKey: URL { keys.appendingPathComponent("token-signing.key") }
    /// Scratch workspaces of runs.
    var workspaces: URL { root.appendingPathComponent("workspaces", isDirectory: true) }
    /// Runtime state: the model server's socket directory, state file and log.
    var runDirectory: URL { root.appendingPathComponent("run", isDirectory: true) }
    /// The model server's own writable directory, holding its socket.
    var modelRuntime: URL { runDirectory.appendingPathComponent("model", isDirectory: true) }
    /// The model server supervisor's state, outside the server's reach.
    var modelServerState: URL { runDirectory.appendingPathComponent("model-server.json") }
    /// The end of each model server life's output.
    var modelServerLog: URL { runDirectory.appendingPathComponent("model-server.log") }
    /// The installed model artefacts: `AIRLOCK_MODEL_HOME` when set (a store shared by several
    /// homes, as CI and the tests do), else `AIRLOCK_HOME/model`.
    let modelDirectory: URL

    /// Resolves `AIRLOCK_HOME` (or the default) and creates it with mode 0700 if missing.
    static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AirlockHome {
        let path: String
        if let explicit = environment["AIRLOCK_HOME"], !explicit.isEmpty {
            path = explicit
        } else if let dataHome = environment["XDG_DATA_HOME"], !dataHome.isEmpty {
            path = dataHome + "/airlock"
        } else if geteuid() == 0 {
            // Root's home is 0700, which the sandbox user could not pass through; system state
            // belongs under /var/lib anyway.
            path = "/var/lib/airlock"
        } else {
            path = (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share/airlock"
        }
        let root = URL(fileURLWithPath: path, isDirectory: true)
        try FileManager.default.createDirectory(
            at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        let model =
            environment["AIRLOCK_MODEL_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0, isDirectory: true) }
            ?? root.appendingPathComponent("model", isDirectory: true)
        return AirlockHome(root: root, modelDirectory: model)
    }
}
