import AirlockCore
import Foundation
import MCP
import Sandbox
import Tools

/// Registering a `kind: mcp` manifest: the server started confined, its tools listed, each made
/// a tool manifest `SERVER.TOOL` with the server's input schema and every tool's pins, compared
/// with what the registry holds. A change is refused unless accepted; accepted, the changed
/// tools get a higher version.
public struct MCPRegistration: Sendable {
    /// The registry the tools go into.
    public let registry: ToolRegistry
    /// What lays out the server's start (its mounts, its secrets from the store).
    public var runner: ToolRunner
    /// Where the server's mount variables point while it is listed (a fresh temporary
    /// workspace is used when it has none).
    public var context: ToolRunContext
    /// How long the server may take to start and list its tools. Default 30 s.
    public var startSeconds: Double = 30

    /// Creates a registration into `registry`.
    /// - Parameter runner: lays out the server's start, its secrets from the runner's store
    ///   (default: a runner over `registry` without one, for servers that declare none).
    public init(registry: ToolRegistry, context: ToolRunContext, runner: ToolRunner? = nil) {
        self.registry = registry
        self.context = context
        self.runner = runner ?? ToolRunner(registry: registry)
    }

    /// What registering one server would store.
    public struct Plan: Sendable {
        /// The server's name.
        public var server: String
        /// One tool manifest per listed tool, ready for ``Tools/ToolRegistry/add(_:)``.
        public var files: [ManifestFile]
        /// How the server's tools differ from the registered pins (empty the first time).
        public var diff: MCPPinDiff
        /// Registered tools of the server it no longer lists (to retire once accepted).
        public var gone: [String]
        /// Whether the server had tools registered before.
        public var registeredBefore: Bool
    }

    /// Starts the server of `file` confined, lists its tools and makes their manifests.
    /// - Parameter acceptChanges: whether tools that differ from their pins may be re-pinned.
    /// - Throws: ``ToolsError``: `mcp-changed` (with the diff) when the tools changed and
    ///   `acceptChanges` is off; `invalid-manifest` for a tool that cannot be registered (its
    ///   name, its schema outside the supported subset); `mcp-server`, `sandbox`.
    public func plan(_ file: ManifestFile, acceptChanges: Bool) async throws(ToolsError) -> Plan {
        guard let server = file.server else {
            throw ToolsError(.invalidManifest, "\(file.url.path): not a kind: mcp manifest")
        }
        let listed = try await list(file, server: server)
        guard !listed.isEmpty else {
            throw ToolsError(
                .invalidManifest, "\(file.url.path): MCP server \(server.name) lists no tools; nothing to register")
        }
        var problems: [FieldProblem] = []
        var pins: [String: MCPToolPin] = [:]
        for tool in listed {
            let name = "\(server.name).\(tool.name)"
            if !ToolManifestRules.isToolName(name) {
                problems.append(
                    FieldProblem(
                        pointer: "/tools/\(tool.name)",
                        message:
                            "the server lists a tool named \"\(tool.name)\"; \(name) is not an Airlock tool name (lowercase dotted segments, at most 64 characters)"
                    ))
            }
            pins[tool.name] = MCPToolPin(
                description: tool.description ?? "", inputSchema: MCPJSON.json(tool.inputSchema) ?? .null)
        }
        for name in server.toolRisk.keys.sorted() where pins[name] == nil {
            problems.append(
                FieldProblem(pointer: "/tools/\(name)", message: "the server lists no tool \(name)"))
        }
        if !problems.isEmpty {
            throw ToolsError(
                .invalidManifest, "\(file.url.path): MCP server \(server.name): its tools cannot be registered",
                problems: problems)
        }

        let registered = try registry.list(includeRetired: true).filter { $0.manifest.mcp?.server == server.name }
        let active = registered.filter { $0.retiredAt == nil }
        let pinned = active.first?.manifest.mcp?.pins
        var reviewed: MCPPinDiff.Reviewed = [:]
        for tool in active {
            if let name = tool.manifest.mcp?.tool {
                reviewed[name] = (tool.manifest.description, tool.manifest.input.document)
            }
        }
        let diff = pinned.map { MCPPinDiff(pinned: $0, listed: listed, reviewed: reviewed) } ?? MCPPinDiff(changes: [])
        if !diff.isEmpty && !acceptChanges {
            throw ToolsError(
                .mcpChanged,
                "\(file.url.path): MCP server \(server.name): its tools differ from the reviewed pins; nothing registered. Review the changes and run `airlock tools add --accept-changes \(file.url.path)` to re-pin them:\n\(diff.text)",
                threats: ["maestro:L7", "asi:04"])
        }

        var files: [ManifestFile] = []
        let decoder = ManifestDecoder()
        for tool in listed {
            let name = "\(server.name).\(tool.name)"
            let latest = registered.first { $0.manifest.name == name }
            func document(_ version: String) -> JSONValue {
                server.toolDocument(
                    tool: tool.name, description: tool.description ?? "",
                    inputSchema: MCPJSON.json(tool.inputSchema) ?? .null, structured: tool.outputSchema != nil,
                    version: version, pins: pins)
            }
            var version = server.server.version
            if let latest {
                version = latest.manifest.version
                if SHA256.hex(document(version).canonicalBytes) != latest.manifest.manifestSHA256 {
                    version =
                        ToolManifestRules.isHigher(server.server.version, than: version)
                        ? server.server.version : Self.nextPatch(version)
                }
            }
            do {
                files.append(file.serverTool(try decoder.decode(document(version))))
            } catch {
                var error = error
                error.message = "\(file.url.path): MCP server \(server.name): tool \(tool.name): \(error.message)"
                throw error
            }
        }
        let gone = active.map(\.manifest.name).filter { name in !files.contains { $0.manifest.name == name } }
        return Plan(server: server.name, files: files, diff: diff, gone: gone, registeredBefore: !registered.isEmpty)
    }

    /// The server's tools, listed by starting it confined (then stopped).
    private func list(_ file: ManifestFile, server: MCPServerManifest) async throws(ToolsError) -> [MCP.Tool] {
        let fm = FileManager.default
        // A scratch directory of Airlock's own: the server's workspace when the context has
        // none, and the copy of its executable that runs (checked against the pin by `prepare`),
        // so that the file hashed is the file run and the sandbox user can reach it.
        let scratch = fm.temporaryDirectory.appendingPathComponent("airlock-mcp-\(UUID().uuidString)")
        let copy = scratch.appendingPathComponent("bin/\(file.executableSHA256)")
        do {
            try fm.createDirectory(
                at: copy.deletingLastPathComponent(), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: scratch.path)
            try fm.copyItem(at: file.executableURL, to: copy)
            try fm.setAttributes([.posixPermissions: 0o555], ofItemAtPath: copy.path)
        } catch {
            try? fm.removeItem(at: scratch)
            throw ToolsError(
                .io, "\(file.url.path): cannot copy the server's executable to start it", cause: "\(error)")
        }
        defer { try? fm.removeItem(at: scratch) }
        var context = self.context
        if context.workspace == nil {
            let workspace = scratch.appendingPathComponent("workspace")
            try? fm.createDirectory(at: workspace, withIntermediateDirectories: true)
            context.workspace = workspace
        }
        let candidate = RegisteredTool(
            manifest: server.server, revision: 0, addedAt: "", sourcePath: file.url.path, retiredAt: nil,
            objectURL: copy)
        let prepared = try runner.prepare(candidate, arguments: .object([:]), context: context)
        let start = try runner.sessionStart(candidate, server: prepared)()
        defer { start.finish() }
        var spec = start.spec
        spec.limits.wallTimeSeconds = startSeconds
        let session = try await MCPServerSession.start(name: server.name, spec: spec, timeout: startSeconds)
        let tools = session.tools
        await session.stop()
        return tools
    }

    /// `MAJOR.MINOR.PATCH` with its patch one higher.
    static func nextPatch(_ version: String) -> String {
        let parts = version.split(separator: ".").map { Int($0) ?? 0 }
        guard parts.count == 3 else { return version }
        return "\(parts[0]).\(parts[1]).\(parts[2] + 1)"
    }
}
