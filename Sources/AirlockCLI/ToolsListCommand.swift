import AirlockCore
import ArgumentParser
import Tools

/// `airlock tools list`: the latest version of every registered tool.
struct ToolsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List registered tools.")

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Include retired tools.")
    var all = false

    func run() throws {
        let (_, registry) = try ToolsCLI.registry()
        let tools: [RegisteredTool]
        do {
            tools = try registry.list(includeRetired: all)
        } catch {
            throw CLI.fail(error)
        }
        if json {
            print(JSONValue.array(tools.map(\.summaryJSON)).prettyString)
            return
        }
        guard !tools.isEmpty else {
            print("no tools registered (add one with `airlock tools add MANIFEST`)")
            return
        }
        let width = max(4, tools.map { $0.manifest.name.count }.max() ?? 4)
        print(pad("NAME", width) + "  VERSION  REV  RISK      STATUS   DESCRIPTION")
        for tool in tools {
            let m = tool.manifest
            let status = tool.retiredAt == nil ? "active" : "retired"
            let summary = m.description.count > 60 ? m.description.prefix(57) + "..." : Substring(m.description)
            print(
                pad(m.name, width) + "  " + pad(m.version, 7) + "  " + pad("\(tool.revision)", 3) + "  "
                    + pad(m.risk.rawValue, 8) + "  " + pad(status, 7) + "  " + summary)
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

extension RegisteredTool {
    /// The fields `tools list --json` prints for one tool.
    var summaryJSON: JSONValue {
        [
            "name": .string(manifest.name), "version": .string(manifest.version), "revision": .integer(Int64(revision)),
            "risk": .string(manifest.risk.rawValue), "retired": .bool(retiredAt != nil),
            "description": .string(manifest.description), "addedAt": .string(addedAt),
        ]
    }
}
