import AirlockCore
import Foundation
import Sandbox
import Secrets

/// Where a run's variables point on the host.
public struct ToolRunContext: Sendable {
    /// The run's scratch directory (`${workspace}`), or `nil` when the run has none.
    public var workspace: URL?
    /// Dataset name → host directory (`${dataset:NAME}`).
    public var datasets: [String: URL]

    /// Creates a context.
    public init(workspace: URL?, datasets: [String: URL] = [:]) {
        self.workspace = workspace
        self.datasets = datasets
    }
}

/// Turns a registered tool and a call's arguments into a confined run: validate the arguments,
/// render argv, resolve mounts, re-verify the executable's digest, and ask the sandbox.
public struct ToolRunner: Sendable {
    /// The registry the tools come from (for digest verification).
    public let registry: ToolRegistry
    /// What runs the spec.
    public let sandbox: any SandboxRunning

    /// Where the executable appears inside the sandbox: `/opt/airlock/tool/<name>`.
    public static let programDirectory = "/opt/airlock/tool"

    /// The environment every tool gets before the manifest's own variables.
    public static let baseEnvironment = ["PATH": SandboxSpec.defaultPath, "LANG": "C.UTF-8", "HOME": "/tmp"]

    /// How much of the end of standard error ``ToolRunResult/stderrTail`` keeps: 2 KiB.
    public static let stderrTailBytes = 2048

    /// The largest call accepted, in bytes of canonical JSON arguments. Default 256 KiB.
    public var maxArgumentBytes: Int
    /// Where the secrets a manifest declares come from; `nil`: a tool that declares any cannot run.
    public var secrets: SecretBroker?
    /// A tmpfs directory under which each call's secret files get a private 0700 directory.
    /// Default `/dev/shm`.
    public var secretsRoot: String
    /// The bounds of each call's record of what it did to the workspace (default ``WorkspaceChanges/Limits``'s).
    public var workspaceLimits = WorkspaceChanges.Limits()
    /// The site's `internal_hosts:` map (host name → numeric address): the only way a
    /// manifest's `network.connect` hosts resolve. Default empty: a tool that declares any
    /// endpoint cannot run.
    public var internalHosts: [String: String] = [:]

    /// Where calls to an MCP server's tools (`SERVER.TOOL`, their manifest's `mcp` set) go: the
    /// run's sessions, one confined server each. Default none: such a call fails `mcp-server`.
    public var sessions: (any ToolSessionCalling)?

    /// The variable that lists a call's endpoints inside the sandbox (`host:port`, space-separated).
    public static let endpointsVariable = "AIRLOCK_NETWORK_CONNECT"

    /// The variable that holds a call's idempotency key inside the sandbox
    /// (``ToolCallIdentity/idempotencyKey``), for a tool that reaches outside to deduplicate by.
    public static let idempotencyKeyVariable = "AIRLOCK_IDEMPOTENCY_KEY"

    /// Creates a runner.
    /// - Parameters:
    ///   - registry: where tools and their stored executables come from.
    ///   - sandbox: what runs the spec (default the real ``Sandbox``).
    ///   - maxArgumentBytes: the largest call accepted (default 256 KiB of canonical JSON).
    ///   - secrets: where declared secrets come from (default none: a tool that declares any cannot run).
    ///   - secretsRoot: the tmpfs for per-call secret files (default `/dev/shm`).
    public init(
        registry: ToolRegistry, sandbox: any SandboxRunning = Sandbox(), maxArgumentBytes: Int = 256 << 10,
        secrets: SecretBroker? = nil, secretsRoot: String = "/dev/shm"
    ) {
        self.registry = registry
        self.sandbox = sandbox
        self.maxArgumentBytes = maxArgumentBytes
        self.secrets = secrets
        self.secretsRoot = secretsRoot
    }

    /// Builds the sandbox spec for one call, after every check.
    /// - Throws: ``ToolsError``: `invalid-arguments` (every schema violation), `invalid-path`,
    ///   `digest-mismatch`, `executable-missing`, `corridor-unresolved`.
    public func prepare(_ tool: RegisteredTool, arguments: JSONValue, context: ToolRunContext) throws(ToolsError)
        -> SandboxSpec
    {
        let manifest = tool.manifest
        let size = arguments.canonicalBytes.count
        guard size <= maxArgumentBytes else {
            throw ToolsError(
                .invalidArguments,
                "\(tool.reference): the arguments are \(size) bytes, more than the \(maxArgumentBytes) accepted",
                threats: ["maestro:L3", "asi:02"])
        }
        let violations = manifest.input.validate(arguments)
        guard violations.isEmpty else {
            throw ToolsError(
                .invalidArguments, "\(tool.reference): the arguments do not match the input schema",
                problems: violations, threats: ["maestro:L3", "asi:02"])
        }
        let argv = try ArgvElement.render(manifest.argv, arguments: arguments)
        var mounts: [BindMount] = []
        for mount in manifest.mounts {
            mounts.append(try resolve(mount, context: context, tool: tool.reference))
        }
        let executable = try registry.verifiedExecutable(of: tool)
        let program = Self.programDirectory + "/" + (manifest.mcp?.server ?? manifest.name)
        mounts.insert(BindMount(source: executable.path, target: program, writable: false), at: 0)
        var environment = Self.baseEnvironment
        environment.merge(manifest.environment) { _, new in new }
        let workspaceMounted = manifest.mounts.contains { $0.variable == .workspace && $0.subpath.isEmpty }
        let corridors = try manifest.network.corridors(internalHosts: internalHosts, tool: tool.reference)
        if !corridors.isEmpty {
            environment[Self.endpointsVariable] = manifest.network.endpoints.map(\.text).joined(separator: " ")
        }
        var spec = SandboxSpec(
            program: program, arguments: argv, environment: environment, mounts: mounts,
            workingDirectory: workspaceMounted ? PathVariable.workspace.insidePath : "/",
            stdin: manifest.argumentsOnStdin ? .bytes(arguments.canonicalBytes) : .null,
            limits: manifest.limits.sandboxLimits(outputBytes: manifest.output.maxBytes),
            syscallGroups: Set(manifest.syscallGroups))
        spec.corridors = corridors
        spec.corridorLimits = manifest.network.limits
        return spec
    }

    /// The shortest wall-time limit a call is given, in seconds: a tighter one (the last moment
    /// of a run's budget) would round to no limit at all in the sandbox's nanoseconds.
    public static let shortestTimeLimitSeconds = 0.001

    /// Runs one call in the sandbox, with the secrets its manifest declares (removed when it ends).
    /// Cancelling the calling task kills the sandbox (the record says `cancelled`).
    /// - Parameters:
    ///   - call: the run and argument digest a per-call token is bound to (default none).
    ///   - timeLimit: at most this many seconds (what a run has left of its budget), when less
    ///     than the manifest's `limits.timeoutSeconds` (default: the manifest's).
    /// - Returns: the result; a non-zero exit or a timeout is an outcome in it, not an error.
    /// - Throws: ``ToolsError`` as ``prepare(_:arguments:context:)``, `secret-unavailable` naming
    ///   the secret and the tool, or `sandbox` when the sandbox could not be set up (nothing ran).
    public func run(
        _ tool: RegisteredTool, arguments: JSONValue, context: ToolRunContext, call: ToolCallIdentity? = nil,
        timeLimit: Double? = nil
    ) async throws(ToolsError) -> ToolRunResult {
        var spec = try prepare(tool, arguments: arguments, context: context)
        if tool.manifest.mcp != nil {
            // The same checks (schema, pin, mounts) made; the call goes to the server's session.
            guard let sessions else {
                throw ToolsError(
                    .mcpServer, "\(tool.reference): a tool of an MCP server, and this runner has no MCP sessions")
            }
            let before = workspaceSnapshot(tool, context: context)
            let answered = try await sessions.call(
                tool, arguments: arguments, start: sessionStart(tool, server: spec), timeLimit: timeLimit)
            // The session hands back the whole answer: redacted first, then cut at the cap, as a
            // tool's output is, so that a secret across the cap is still found.
            var record = answered.record
            let cap = tool.manifest.output.maxBytes
            let stderrTail: String
            if sandbox.runsPrograms, let redactor = secrets?.redactor {
                stderrTail = redactor.redactedSuffix(
                    record.stderr.text, maxBytes: Self.stderrTailBytes, cut: record.stderr.truncated)
                record = Self.redacted(record, cap: cap, redactor: redactor)
            } else {
                stderrTail = String(decoding: record.stderr.bytes.suffix(Self.stderrTailBytes), as: UTF8.self)
                record = Self.capped(record, cap: cap)
            }
            var result = ToolRunResult(
                tool: answered.tool, arguments: answered.arguments, record: record, manifest: tool.manifest)
            result.stderrTail = stderrTail
            result.workspaceChanges = before.map { WorkspaceChanges.since($0, limits: workspaceLimits) }
            return result
        }
        if let timeLimit {
            spec.limits.wallTimeSeconds = min(
                spec.limits.wallTimeSeconds, max(timeLimit, Self.shortestTimeLimitSeconds))
        }
        let material = try SecretMaterial(
            tool.manifest.secrets, tool: tool.reference, broker: secrets, call: call, root: secretsRoot,
            owner: sandbox.hostIdentity, deliver: sandbox.runsPrograms)
        defer { material.remove() }
        spec.mounts += material.mounts
        spec.environment.merge(material.environment) { _, secret in secret }
        let idempotencyKey = call?.idempotencyKey
        if let idempotencyKey { spec.environment[Self.idempotencyKeyVariable] = idempotencyKey }
        // Redaction comes before any cut: the sandbox keeps enough past the cap for a secret
        // that starts before it to be captured whole (and so found), and the cap is applied
        // after redaction, below.
        let redactor = sandbox.runsPrograms ? secrets?.redactor : nil
        let cap = tool.manifest.output.maxBytes
        if let redactor { spec.limits.outputBytesPerStream = cap + redactor.longestFormBytes }
        // Listed after `prepare`, which may create a mount's directory: only the call's own
        // writes are its changes.
        let before = workspaceSnapshot(tool, context: context)
        var record: ExecutionRecord
        do {
            record = try await sandbox.run(spec)
        } catch {
            var message = "\(tool.reference): the sandbox could not be set up; nothing ran"
            if let code = error.errno, SystemError(code).isAccessDenied {
                let (uid, gid) = sandbox.hostIdentity
                message +=
                    " (the sandbox runs tools as \(uid):\(gid); every mount source and each directory above it, AIRLOCK_HOME included, must be traversable by that user)"
            }
            throw ToolsError(.sandbox, message, cause: error.message)
        }
        var stderrTail = String(decoding: record.stderr.bytes.suffix(Self.stderrTailBytes), as: UTF8.self)
        if let redactor {
            stderrTail = redactor.redactedSuffix(
                record.stderr.text, maxBytes: Self.stderrTailBytes, cut: record.stderr.truncated)
            record = Self.redacted(record, cap: cap, redactor: redactor)
        }
        var result = ToolRunResult(
            tool: tool.reference, arguments: spec.arguments, record: record, manifest: tool.manifest)
        result.stderrTail = stderrTail
        result.workspaceChanges = before.map { WorkspaceChanges.since($0, limits: workspaceLimits) }
        result.idempotencyKey = idempotencyKey
        return result
    }

    /// How the server of a `kind: mcp` tool starts from `spec` (``prepare(_:arguments:context:)``'s):
    /// the secrets its manifest declares laid out for the session's life (no per-call tokens: the
    /// decoder refuses them for a server), removed by the start's `finish`.
    public func sessionStart(_ tool: RegisteredTool, server spec: SandboxSpec)
        -> @Sendable () throws(ToolsError) -> SessionStart
    {
        let (secrets, secretsRoot, owner, deliver) = (
            self.secrets, self.secretsRoot, sandbox.hostIdentity, sandbox.runsPrograms
        )
        return { () throws(ToolsError) -> SessionStart in
            let material = try SecretMaterial(
                tool.manifest.secrets, tool: tool.reference, broker: secrets, call: nil, root: secretsRoot,
                owner: owner, deliver: deliver)
            var server = spec
            server.mounts += material.mounts
            server.environment.merge(material.environment) { _, secret in secret }
            return SessionStart(spec: server, finish: { material.remove() })
        }
    }

    /// The workspace as a call starts, for a tool that mounts it writable (`nil` otherwise).
    private func workspaceSnapshot(_ tool: RegisteredTool, context: ToolRunContext) -> WorkspaceChanges.Snapshot? {
        guard tool.manifest.mounts.contains(where: { $0.variable == .workspace && $0.writable }) else { return nil }
        return context.workspace.map { WorkspaceChanges.snapshot(of: $0, limits: workspaceLimits) }
    }

    /// The record with both streams cut at `cap` bytes (what was dropped still counted).
    static func capped(_ record: ExecutionRecord, cap: Int) -> ExecutionRecord {
        var record = record
        for path in [\ExecutionRecord.stdout, \ExecutionRecord.stderr] {
            let captured = record[keyPath: path]
            guard captured.bytes.count > cap else { continue }
            record[keyPath: path] = CapturedOutput(
                bytes: Array(captured.bytes.prefix(cap)), totalBytes: captured.totalBytes)
        }
        return record
    }

    /// The record with both streams redacted, then cut at `cap` bytes.
    static func redacted(_ record: ExecutionRecord, cap: Int, redactor: SecretRedactor) -> ExecutionRecord {
        var record = record
        for path in [\ExecutionRecord.stdout, \ExecutionRecord.stderr] {
            let captured = record[keyPath: path]
            let (text, truncated) = redactor.redactedPrefix(captured.text, maxBytes: cap, cut: captured.truncated)
            var stream = CapturedOutput(bytes: Array(text.utf8), totalBytes: captured.totalBytes)
            stream.truncated = truncated
            record[keyPath: path] = stream
        }
        return record
    }

    /// Resolves a mount to a host directory that cannot escape its variable's directory, even
    /// through symlinks; a missing read-write directory under the workspace is created.
    private func resolve(_ mount: MountSpec, context: ToolRunContext, tool: String) throws(ToolsError) -> BindMount {
        let base: URL
        switch mount.variable {
        case .workspace:
            guard let workspace = context.workspace else {
                throw ToolsError(.invalidPath, "\(tool): mount \(mount.text) needs a workspace, and this run has none")
            }
            base = workspace
        case .dataset(let name):
            guard let dataset = context.datasets[name] else {
                throw ToolsError(
                    .invalidPath,
                    "\(tool): mount \(mount.text): dataset \"\(name)\" is not configured (add it to AIRLOCK_HOME/site.yaml under datasets, or pass --dataset \(name)=PATH)"
                )
            }
            base = dataset
        }
        let fm = FileManager.default
        // Paths as strings from here: a URL's `path` is worked out again at every read.
        let basePath = base.path
        let host = ([basePath] + mount.subpath).joined(separator: "/")
        // Containment is checked (symlinks followed) before anything is created or handed over:
        // a tool could have left a symlink in the workspace for a later run to follow.
        let realBase = try Self.resolvedPath(basePath, tool: tool, mount: mount)
        func inside(_ path: String) -> Bool {
            path == realBase || path.hasPrefix(realBase.hasSuffix("/") ? realBase : realBase + "/")
        }
        func escape(_ resolved: String) -> ToolsError {
            ToolsError(
                .invalidPath, "\(tool): mount \(mount.text): \(host) resolves to \(resolved), outside \(realBase)",
                threats: ["maestro:L4", "asi:02"])
        }
        let planned = try Self.resolvedPath(host, tool: tool, mount: mount)
        guard inside(planned) else { throw escape(planned) }
        if mount.writable, mount.variable == .workspace, !fm.fileExists(atPath: host) {
            try? fm.createDirectory(
                atPath: host, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let realHost = try Self.resolvedPath(host, tool: tool, mount: mount)
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: realHost, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ToolsError(.invalidPath, "\(tool): mount \(mount.text): \(host) is not an existing directory")
        }
        guard inside(realHost) else { throw escape(realHost) }
        // The run's workspace belongs to the run: the sandbox's user must be able to enter it.
        if mount.variable == .workspace { try handOver(realBase, tool: tool, mount: mount) }
        if mount.writable { try handOver(realHost, tool: tool, mount: mount) }
        return BindMount(source: realHost, target: mount.insidePath, writable: mount.writable)
    }

    /// The path with every symlink resolved, also when its last components do not exist yet
    /// (they are resolved from their deepest existing ancestor). A dangling symlink is refused.
    ///
    /// `.` and `..` are removed lexically first (as `standardizedFileURL` does), so that a
    /// component that does not exist yet cannot carry a `..` past the resolution; then one
    /// `lstat` per missing component and one realpath(3). Every mount of every call comes here.
    static func resolvedPath(_ path: String, tool: String, mount: MountSpec) throws(ToolsError) -> String {
        var components: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                _ = components.popLast()
                continue
            }
            components.append(component)
        }
        // An entry exists when lstat finds it: a dangling link counts as existing, and is then
        // refused by realpath below.
        var kept = components.count
        while kept > 0, Posix.linkStatus("/" + components[..<kept].joined(separator: "/")) == nil { kept -= 1 }
        let existing = "/" + components[..<kept].joined(separator: "/")
        let resolved: String
        do {
            resolved = try Posix.realPath(existing)
        } catch {
            // What exists but does not resolve is a link to nothing (ENOENT), a loop of links, or
            // a directory the runner may not pass through.
            let what =
                error.code == ENOENT || error.code == ELOOP
                ? "is a dangling symbolic link" : "cannot be resolved: \(error)"
            throw ToolsError(
                .invalidPath, "\(tool): mount \(mount.text): \(existing) \(what)", threats: ["maestro:L4", "asi:02"])
        }
        let tail = components[kept...].map(String.init)
        guard !tail.isEmpty else { return resolved }
        return ([resolved == "/" ? "" : resolved] + tail).joined(separator: "/")
    }

    /// Makes a workspace directory owned by the sandbox's host identity, which is not the
    /// caller's when Airlock runs as root (the sandbox then runs tools as an unprivileged uid).
    /// Only the directory itself changes owner, never what it contains.
    private func handOver(_ directory: String, tool: String, mount: MountSpec) throws(ToolsError) {
        let (uid, gid) = sandbox.hostIdentity
        let fm = FileManager.default
        // lstat, not `attributesOfItem`, which also looks up the owner's and group's names.
        let status = Posix.linkStatus(directory)
        guard status?.st_uid != uid || status?.st_gid != gid else { return }
        do {
            try fm.setAttributes(
                [.ownerAccountID: NSNumber(value: uid), .groupOwnerAccountID: NSNumber(value: gid)],
                ofItemAtPath: directory)
        } catch {
            throw ToolsError(
                .invalidPath,
                "\(tool): mount \(mount.text): \(directory) must belong to the sandbox user \(uid):\(gid) and could not be handed over",
                cause: error)
        }
    }
}
