import AirlockCore
import ArgumentParser
import Tools

/// `airlock tools show NAME[@VERSION]`: one registered version in full.
struct ToolsShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a registered tool (the latest version, or NAME@VERSION).")

    @Argument(help: "NAME or NAME@VERSION.")
    var reference: String

    @Flag(help: "Print JSON: the manifest, the policy facts, the model's tool description and all versions.")
    var json = false

    func run() throws {
        let (_, registry) = try ToolsCLI.registry()
        let tool: RegisteredTool
        let versions: [RegisteredTool]
        do {
            tool = try registry.resolve(reference, allowRetired: true)
            versions = try registry.versions(of: tool.manifest.name)
        } catch {
            throw CLI.fail(error)
        }
        let m = tool.manifest
        if json {
            let document: JSONValue = [
                "name": .string(m.name), "version": .string(m.version), "revision": .integer(Int64(tool.revision)),
                "addedAt": .string(tool.addedAt), "retiredAt": tool.retiredAt.map(JSONValue.string) ?? .null,
                "sourcePath": .string(tool.sourcePath), "manifest": m.document, "facts": ToolsCLI.json(m.facts),
                "modelTool": m.modelToolDescription,
                "versions": .array(versions.map { $0.summaryJSON }),
            ]
            print(document.prettyString)
            return
        }
        let status = tool.retiredAt.map { "retired \($0)" } ?? "active"
        print("\(tool.reference) (revision \(tool.revision), \(status))")
        print("  description: \(m.description)")
        print("  owner:       \(m.owner)")
        print("  executable:  sha256 \(m.executable.sha256)")
        print(
            "  argv:        \(m.argv.map(Self.describe).joined(separator: " "))\(m.argumentsOnStdin ? "  (arguments also on stdin)" : "")"
        )
        print("  input:       \(m.input.document.canonicalString)")
        print("  output:      \(m.output.format.rawValue), at most \(m.output.maxBytes) bytes to the model")
        let mounts = m.mounts.map { "\($0.insidePath) ← \($0.text) (\($0.writable ? "rw" : "ro"))" }
        print("  mounts:      \(mounts.isEmpty ? "none" : mounts.joined(separator: ", "))")
        let l = m.limits
        print(
            "  limits:      timeout \(Units.duration(l.timeoutSeconds)), cpu \(l.cpuSeconds) s, memory \(Units.bytes(l.memoryBytes)), processes \(l.processes), file size \(Units.bytes(l.fileSizeBytes))"
        )
        print(
            "  seccomp:     default\(m.syscallGroups.isEmpty ? "" : " + " + m.syscallGroups.map(\.rawValue).joined(separator: ", "))"
        )
        print(
            "  risk:        \(m.risk.rawValue); reads [\(m.readsLabels.joined(separator: ", "))]; output [\(m.outputLabels.joined(separator: ", "))]"
        )
        print("  threats:     \(m.threats.joined(separator: " "))")
        if let mcp = m.mcp {
            print(
                "  mcp:         tool \(mcp.tool) of MCP server \(mcp.server) (started confined once per run); pinned: \(mcp.pins.keys.sorted().joined(separator: ", "))"
            )
        }
        print(
            "  versions:    \(versions.map { "\($0.manifest.version) (rev \($0.revision), \($0.addedAt))" }.joined(separator: ", "))"
        )
    }

    static func describe(_ element: ArgvElement) -> String {
        switch element {
        case .literal(let text): text.expanded
        case .positional(let arg): "<\(arg)>"
        case .option(let name, let arg): "\(name)=<\(arg)>"
        case .flag(let name, let arg): "[\(name) if \(arg)]"
        }
    }
}
