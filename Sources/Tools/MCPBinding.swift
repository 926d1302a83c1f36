import AirlockCore

/// What makes a registered tool one of an MCP server's (`SERVER.TOOL`): the server it is called
/// on and the pins every start of that server is checked against.
///
/// The registry stores it as the manifest's `mcp` field (docs/tools.md#kind-mcp); `airlock
/// tools add` writes it from what the server listed, confined, at registration.
public struct MCPBinding: Sendable, Hashable {
    /// The server's name (the `kind: mcp` manifest's `name`).
    public var server: String
    /// The tool's name as the server lists it.
    public var tool: String
    /// What every tool of the server looked like when it was reviewed: tool name → pin. A start
    /// whose list differs in any way (a tool added, gone, redescribed or with another schema) is
    /// refused.
    public var pins: [String: MCPToolPin]

    /// Creates a binding.
    public init(server: String, tool: String, pins: [String: MCPToolPin]) {
        self.server = server
        self.tool = tool
        self.pins = pins
    }

    /// The `mcp` field's document.
    public var document: JSONValue {
        .object([
            "server": .string(server), "tool": .string(tool),
            "pins": .object(pins.mapValues(\.document)),
        ])
    }
}

/// One MCP tool as reviewed: the SHA-256 of its description and of its input schema.
public struct MCPToolPin: Sendable, Hashable {
    /// SHA-256 of the description's UTF-8 (of the empty string when the server gives none).
    public var descriptionSHA256: String
    /// SHA-256 of the input schema's canonical JSON.
    public var inputSchemaSHA256: String

    /// The pin of a description and a schema as a server lists them.
    public init(description: String, inputSchema: JSONValue) {
        descriptionSHA256 = SHA256.hex(Array(description.utf8))
        inputSchemaSHA256 = SHA256.hex(inputSchema.canonicalBytes)
    }

    /// A pin with its digests.
    public init(descriptionSHA256: String, inputSchemaSHA256: String) {
        self.descriptionSHA256 = descriptionSHA256
        self.inputSchemaSHA256 = inputSchemaSHA256
    }

    var document: JSONValue {
        .object(["description": .string(descriptionSHA256), "inputSchema": .string(inputSchemaSHA256)])
    }
}

extension ManifestDecoder {
    /// Reads the stored `mcp` field (written at registration, never by hand).
    static func mcpBinding(_ value: JSONValue?, reader r: inout DocumentReader) -> MCPBinding? {
        guard
            let m = r.object(
                value, "/mcp", allowed: ["server", "tool", "pins"], required: ["server", "tool", "pins"])
        else { return nil }
        let server = r.string(m, "/mcp", "server") {
            ToolManifestRules.isToolName($0 + ".t") ? nil : "must be a server name such as notes"
        }
        let tool = r.string(m, "/mcp", "tool") { $0.isEmpty ? "must not be empty" : nil }
        var pins: [String: MCPToolPin] = [:]
        if let entries = r.object(m["pins"], "/mcp/pins", allowed: nil, required: []) {
            for name in entries.keys.sorted() {
                let pointer = JSONPointer.appending("/mcp/pins", name)
                let digest: (String) -> String? = {
                    $0.count == 64 && Hex.decode($0) != nil ? nil : "must be 64 lowercase hex digits"
                }
                guard
                    let pin = r.object(
                        entries[name], pointer, allowed: ["description", "inputSchema"],
                        required: ["description", "inputSchema"]),
                    let description = r.string(pin, pointer, "description", check: digest),
                    let schema = r.string(pin, pointer, "inputSchema", check: digest)
                else { continue }
                pins[name] = MCPToolPin(descriptionSHA256: description, inputSchemaSHA256: schema)
            }
        }
        guard let server, let tool else { return nil }
        if pins[tool] == nil { r.fail("/mcp/pins", "has no pin for the tool itself, \(tool)") }
        return MCPBinding(server: server, tool: tool, pins: pins)
    }
}
