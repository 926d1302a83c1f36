import AirlockCore
import Approvals
import Foundation
import ModelRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// Where Airlock keeps everything: `AIRLOCK_HOME`, default `~/.local/share/airlock`, or
/// `/var/lib/airlock` when Airlock runs as root.
///
/// Every front door (the CLI, later the console, MCP and workers) resolves it once and hands
/// explicit paths to the modules. Below this one, only two process-wide switches read the
/// environment themselves: `HostCommand` looks programs up on `PATH`, and the sandbox's fork
/// template can be turned off with `AIRLOCK_SANDBOX_TEMPLATES=off` (read once, at first use).
///
/// The directory is 0711: others may pass through it (the sandbox user must reach a run's
/// workspace and the registry's stored executables inside it) but not list it; keys, databases
/// and workspaces below it keep their own tighter modes.
public struct AirlockHome: Sendable {
    /// The root directory.
    public let root: URL

    /// The tool registry database.
    public var registryDatabase: URL { root.appendingPathComponent("registry.sqlite") }
    /// The site's configuration (``SiteConfiguration``).
    public var siteFile: URL { root.appendingPathComponent("site.yaml") }
    /// The trace database.
    public var traceDatabase: URL { root.appendingPathComponent("trace.sqlite") }
    /// The approval requests runs wait on and `airlock approvals` answers.
    public var approvalsDatabase: URL { root.appendingPathComponent("approvals.sqlite") }
    /// The home's approval store, over ``approvalsDatabase``.
    public var approvalStore: ApprovalStore { ApprovalStore(databaseURL: approvalsDatabase) }
    /// Keys, one per purpose, mode 0600.
    public var keys: URL { root.appendingPathComponent("keys", isDirectory: true) }
    /// The secret store's directory (0700), holding `store.sealed` (0600).
    public var secrets: URL { root.appendingPathComponent("secrets", isDirectory: true) }
    /// The key the secret store is sealed with (0600), used for nothing else.
    public var secretsKey: URL { keys.appendingPathComponent("secrets.key") }
    /// The key per-call tokens are signed with (0600), used for nothing else.
    public var tokenSigningKey: URL { keys.appendingPathComponent("token-signing.key") }
    /// Scratch workspaces of runs.
    public var workspaces: URL { root.appendingPathComponent("workspaces", isDirectory: true) }
    /// Runtime state: the model server's socket directory, state file and log, the workspaces' locks.
    public var runDirectory: URL { root.appendingPathComponent("run", isDirectory: true) }
    /// The lock each run holds on its workspace while it runs (`NAME.lock`, 0700 directory),
    /// outside every workspace, where no tool can reach it.
    public var workspaceLocks: URL { runDirectory.appendingPathComponent("workspaces", isDirectory: true) }
    /// The model server's own writable directory, holding its socket.
    public var modelRuntime: URL { runDirectory.appendingPathComponent("model", isDirectory: true) }
    /// The model server supervisor's state, outside the server's reach.
    public var modelServerState: URL { runDirectory.appendingPathComponent("model-server.json") }
    /// The end of each model server life's output.
    public var modelServerLog: URL { runDirectory.appendingPathComponent("model-server.log") }
    /// The installed model artefacts: `AIRLOCK_MODEL_HOME` when set (a store shared by several
    /// homes, as CI and the tests do), else `AIRLOCK_HOME/model`.
    public let modelDirectory: URL

    /// The installed model artefacts.
    public var modelStore: ModelStore { ModelStore(root: modelDirectory) }
    /// The background model server of this home: its state file and log.
    public var modelBackground: ModelBackground {
        ModelBackground(stateFile: modelServerState, logFile: modelServerLog)
    }

    /// A home at `root` (the tests' and the console's way; front doors use ``resolve(environment:)``).
    /// - Parameters:
    ///   - root: the directory.
    ///   - modelDirectory: the model store (default `root/model`).
    public init(root: URL, modelDirectory: URL? = nil) {
        self.root = root
        self.modelDirectory = modelDirectory ?? root.appendingPathComponent("model", isDirectory: true)
    }

    /// Resolves `AIRLOCK_HOME` (or the default) and creates it with mode 0711 if missing (see
    /// above: others may pass through, not list).
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> AirlockHome
    {
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
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path, isDirectory: true), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o711])
        let model = environment["AIRLOCK_MODEL_HOME"].flatMap { $0.isEmpty ? nil : $0 }
        return AirlockHome(root: canonical(path), modelDirectory: model.map(canonical))
    }

    /// `path` with its symbolic links resolved (as realpath(3)), or as given when it does not
    /// exist yet. The operator's own choice of home may be a link (`/var/lib/airlock` → a data
    /// disk); what the sandbox mounts from inside it is opened without following links (see
    /// Sandbox's bind sources), so the link is resolved here, once, where it is trusted.
    private static func canonical(_ path: String) -> URL {
        URL(fileURLWithPath: (try? Posix.realPath(path)) ?? path, isDirectory: true)
    }
}

extension AirlockHome {
    /// A run's workspace, held for the run: `explicit`, or a new `workspaces/PREFIX-STAMP-ID`,
    /// created with mode 0700 under a 0711 parent so that the sandbox's unprivileged user can pass
    /// through to it. A workspace under ``workspaces`` is locked (``WorkspaceLease``) before it is
    /// created or used, so that `airlock workspaces prune` never removes it while the run lives.
    /// - Throws: ``RunsError`` `usage` when another run (or a prune) holds that workspace,
    ///   `state` naming the directory that cannot be created or locked.
    public func claimWorkspace(explicit: URL?, prefix: String) throws(RunsError) -> WorkspaceLease {
        let url =
            explicit
            ?? workspaces.appendingPathComponent(
                "\(prefix)-\(Int(Date().timeIntervalSince1970))-\(UUID().uuidString.prefix(8).lowercased())")
        do {
            try FileManager.default.createDirectory(
                at: workspaces, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        } catch {
            throw RunsError(.state, "cannot create the workspaces directory \(workspaces.path)", cause: error)
        }
        let name = Workspaces(home: self).name(of: url)
        let lock = try name.map { name throws(RunsError) in try Workspaces(home: self).lock(name) }
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            lock?.release()
            throw RunsError(.state, "cannot create the workspace \(url.path)", cause: error)
        }
        return WorkspaceLease(url: url, name: name, lock: lock)
    }

    /// The site's configuration, read from ``siteFile``.
    /// - Throws: ``RunsError`` as ``SiteConfiguration/load(_:)``.
    public func site() throws(RunsError) -> SiteConfiguration { try SiteConfiguration.load(siteFile) }
}
