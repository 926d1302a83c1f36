import AirlockCore
import MCP
import Tools

/// How an MCP server's tools as listed now differ from their pins: tools added, gone,
/// redescribed, or with another input schema. Empty: the server is as it was reviewed.
public struct MCPPinDiff: Sendable, Hashable {
    /// One difference.
    public enum Change: Sendable, Hashable {
        /// A tool the pins do not have.
        case added(tool: String, description: String)
        /// A pinned tool the server no longer lists.
        case removed(tool: String)
        /// Another description (`old` when the registry still has its text).
        case description(tool: String, old: String?, new: String)
        /// Another input schema.
        case inputSchema(tool: String, old: JSONValue?, new: JSONValue)
    }

    /// Every difference, by tool name.
    public var changes: [Change]

    /// A diff of these changes.
    public init(changes: [Change]) {
        self.changes = changes
    }

    /// What was reviewed, for the diff's old side: tool name → description and schema.
    public typealias Reviewed = [String: (description: String, inputSchema: JSONValue)]

    /// The differences between `pinned` and `listed`.
    /// - Parameter reviewed: the reviewed texts, where known (the registry's manifests), to show
    ///   what changed rather than only that it did.
    public init(pinned: [String: MCPToolPin], listed: [MCP.Tool], reviewed: Reviewed = [:]) {
        var changes: [Change] = []
        let now = Dictionary(listed.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in Set(pinned.keys).union(now.keys).sorted() {
            guard let tool = now[name] else {
                changes.append(.removed(tool: name))
                continue
            }
            let description = tool.description ?? ""
            let schema = MCPJSON.json(tool.inputSchema) ?? .null
            guard let pin = pinned[name] else {
                changes.append(.added(tool: name, description: description))
                continue
            }
            let listedPin = MCPToolPin(description: description, inputSchema: schema)
            if listedPin.descriptionSHA256 != pin.descriptionSHA256 {
                changes.append(.description(tool: name, old: reviewed[name]?.description, new: description))
            }
            if listedPin.inputSchemaSHA256 != pin.inputSchemaSHA256 {
                changes.append(.inputSchema(tool: name, old: reviewed[name]?.inputSchema, new: schema))
            }
        }
        self.changes = changes
    }

    /// Whether the server is as reviewed.
    public var isEmpty: Bool { changes.isEmpty }

    /// The differences by name only, none of the server's new text: what a run records and its
    /// model is told (a changed description is the very text that must not reach the model).
    public var summary: String {
        changes.map { change -> String in
            switch change {
            case .added(let tool, _): "tool \(tool) added"
            case .removed(let tool): "tool \(tool) gone"
            case .description(let tool, _, _): "tool \(tool): description changed"
            case .inputSchema(let tool, _, _): "tool \(tool): input schema changed"
            }
        }.joined(separator: "; ")
    }

    /// The differences for a reviewer, one block per change (`-` reviewed, `+` now).
    public var text: String {
        changes.map { change -> String in
            switch change {
            case .added(let tool, let description): "  + tool \(tool) (new): \(description)"
            case .removed(let tool): "  - tool \(tool) (no longer listed)"
            case .description(let tool, let old, let new):
                "  ~ tool \(tool): description changed\n    - \(old ?? "(the reviewed text is not at hand; its digest differs)")\n    + \(new)"
            case .inputSchema(let tool, let old, let new):
                "  ~ tool \(tool): input schema changed\n    - \(old?.canonicalString ?? "(the reviewed schema is not at hand; its digest differs)")\n    + \(new.canonicalString)"
            }
        }.joined(separator: "\n")
    }
}
