import AirlockCore

/// A `kind: mcp` manifest: a stdio MCP server run confined like a tool, whose tools become
/// registered tools named `SERVER.TOOL` (docs/tools.md#kind-mcp).
///
/// Everything but the tools' descriptions and input schemas is declared here, as for a tool:
/// the executable and its pin, `argv` (literals: the server's arguments), mounts, environment,
/// limits, seccomp groups, risk, data labels and threats. The tools come from the server itself,
/// listed at registration and pinned by digest.
public struct MCPServerManifest: Sendable {
    /// The server as a tool manifest (its `input` an empty object schema): what each of its
    /// tools' manifests is made from.
    public var server: ToolManifest
    /// Per-tool risk, where a tool differs from the server's `risk`.
    public var toolRisk: [String: RiskLevel]

    /// The server's `name`.
    public var name: String { server.name }

    /// The top-level fields of a `kind: mcp` manifest.
    public static let fields = [
        "kind", "name", "version", "description", "owner", "executable", "argv", "output", "filesystem",
        "environment", "limits", "seccomp", "risk", "data", "threats", "secrets", "tools",
    ]

    /// Fields of a tool manifest a server manifest may not have, and why.
    static let refused: [String: String] = [
        "input": "an MCP server's tools bring their own input schemas (listed and pinned at registration)",
        "stdin": "an MCP server's stdin is the protocol",
        "network": "MCP servers get no network corridors yet",
    ]

    /// Whether a parsed document says `kind: mcp`.
    public static func isServer(_ document: JSONValue) -> Bool {
        document["kind"] == .string("mcp")
    }

    /// The manifest document of the server's tool `tool`, as the registry stores it.
    /// - Parameters:
    ///   - tool: the tool's name as the server lists it.
    ///   - description: its description (empty when the server gives none).
    ///   - inputSchema: its input schema.
    ///   - structured: whether it declares an output schema (its results are then JSON).
    ///   - version: the version the registered tool gets.
    ///   - pins: every tool of the server, pinned.
    public func toolDocument(
        tool: String, description: String, inputSchema: JSONValue, structured: Bool, version: String,
        pins: [String: MCPToolPin]
    ) -> JSONValue {
        var members = server.document.objectValue ?? [:]
        members["kind"] = nil
        members["tools"] = nil
        members["name"] = .string("\(server.name).\(tool)")
        members["version"] = .string(version)
        members["description"] = .string(
            description.isEmpty ? "\(tool) (the MCP server \(server.name) gives no description)" : description)
        members["input"] = inputSchema
        var output: [String: JSONValue] = ["format": .string(structured ? "json" : "text")]
        output["maxBytes"] = .integer(Int64(server.output.maxBytes))
        members["output"] = .object(output)
        members["risk"] = .string((toolRisk[tool] ?? server.risk).rawValue)
        members["mcp"] = MCPBinding(server: server.name, tool: tool, pins: pins).document
        return .object(members)
    }
}

extension ManifestDecoder {
    /// Decodes a `kind: mcp` manifest, every problem with its pointer and line.
    /// - Throws: ``ToolsError`` (`invalid-manifest`) listing every problem.
    public func decodeServer(_ yaml: YAMLDocument) throws(ToolsError) -> MCPServerManifest {
        var r = DocumentReader(yaml)
        let root = r.object(yaml.value, "", allowed: nil, required: ["kind"]) ?? [:]
        for key in root.keys.sorted() {
            if let why = MCPServerManifest.refused[key] {
                r.fail(JSONPointer.appending("", key), "not allowed in a kind: mcp manifest: \(why)")
            } else if !MCPServerManifest.fields.contains(key) {
                r.fail(
                    JSONPointer.appending("", key),
                    DocumentProblems.unknownField(key, allowed: MCPServerManifest.fields))
            }
        }
        if root["kind"] != .string("mcp") { r.fail("/kind", "must be mcp") }
        for (index, secret) in (root["secrets"]?.arrayValue ?? []).enumerated() where secret["as"] == .string("token") {
            r.fail(
                "/secrets/\(index)/as",
                "a per-call token is bound to one call's arguments; an MCP server outlives its calls (use file or env)")
        }
        if let output = root["output"]?.objectValue, output["format"] != nil {
            r.fail(
                "/output/format", "an MCP tool's format follows the server (json when it declares an output schema)")
        }
        var toolRisk: [String: RiskLevel] = [:]
        if let tools = r.object(root["tools"], "/tools", allowed: nil, required: []) {
            for name in tools.keys.sorted() {
                let pointer = JSONPointer.appending("/tools", name)
                let entry = r.object(tools[name], pointer, allowed: ["risk"], required: [])
                if let risk = r.enumeration(entry, pointer, "risk", RiskLevel.self) { toolRisk[name] = risk }
            }
        }
        var members = root
        for key in ["kind", "tools"] + MCPServerManifest.refused.keys { members[key] = nil }
        members["input"] = .object(["type": .string("object")])
        // A server's name is its tools' first segments (`notes` → `notes.lookup`): checked as
        // a tool's name with one more segment, and the rest of the manifest as its tools' are.
        let name = root["name"]?.stringValue
        if let name, !ToolManifestRules.isToolName(name + ".t") {
            r.fail(
                "/name",
                "must be lowercase segments such as notes or site.notes (each a-z, 0-9, '_' or '-', starting with a letter; at most 62 characters)"
            )
        } else if let name {
            members["name"] = .string(name + ".t")
        }
        var server: ToolManifest?
        do {
            server = try decode(.object(members), source: yaml)
            if let name {
                server?.name = name
                members["name"] = .string(name)
                server?.document = .object(members)
            }
        } catch {
            for problem in error.problems where problem.pointer != "/name" || r.all.isEmpty {
                r.record(problem)
            }
            server = nil
        }
        guard r.all.isEmpty, let server else {
            let label = root["name"]?.stringValue.map { "MCP server manifest \($0)" } ?? "MCP server manifest"
            let count = max(r.all.count, 1)
            throw ToolsError(
                .invalidManifest, "\(label): \(count) problem\(count == 1 ? "" : "s")", problems: r.all)
        }
        return MCPServerManifest(server: server, toolRisk: toolRisk)
    }
}

extension ManifestFile {
    /// This `kind: mcp` file's registration of one of its server's tools: `manifest` (made with
    /// ``MCPServerManifest/toolDocument(tool:description:inputSchema:structured:version:pins:)``)
    /// with the server's pinned executable.
    public func serverTool(_ manifest: ToolManifest) -> ManifestFile {
        ManifestFile(
            url: url, text: text, manifest: manifest, executableURL: executableURL, executableSHA256: executableSHA256)
    }
}
