import ArgumentParser

/// `airlock mcp …`: the Model Context Protocol front door (docs/mcp.md).
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the registered tools to an MCP client, judged, approved, confined and recorded.",
        subcommands: [MCPServeCommand.self]
    )
}
