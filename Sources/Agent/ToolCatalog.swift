import AirlockCore
import Foundation
import Tools

/// Where a run's tools come from: the workflow's tools at the start, a registered tool the
/// workflow does not list when the model names one, and each call's measured executable digest.
///
/// Live runs use ``RegistryCatalog``; a replay uses the tools and digests the trace recorded, so
/// that it needs no registry and sees the versions the run saw.
public protocol ToolCatalog: Sendable {
    /// The workflow's tool `name`, as the run uses it.
    /// - Throws: ``ToolsError`` `unknown-tool` when it is not registered, or a registry failure.
    func tool(named name: String) throws(ToolsError) -> RegisteredTool
    /// A registered tool the workflow does not list, so the policy can say `not-in-workflow`
    /// rather than `unknown-tool`; `nil` when there is none.
    func unlisted(_ name: String, callID: String) throws(ToolsError) -> RegisteredTool?
    /// The SHA-256 of the tool's stored executable as measured for this call (`missing` when
    /// it cannot be read): the policy compares it with the manifest's pinned digest.
    func measuredDigest(of tool: RegisteredTool, callID: String) -> String
}

/// The live catalog: the site's tool registry, the stored executable hashed for every call.
public struct RegistryCatalog: ToolCatalog {
    /// The registry.
    public let registry: ToolRegistry

    /// Creates a catalog over a registry.
    public init(registry: ToolRegistry) {
        self.registry = registry
    }

    public func tool(named name: String) throws(ToolsError) -> RegisteredTool {
        let tool = try registry.resolve(name)
        guard tool.manifest.name == name else {
            throw ToolsError(.unknownTool, "\(name) resolves to \(tool.manifest.name)")
        }
        return tool
    }

    /// Names with `@` are never resolved: a model does not choose versions.
    public func unlisted(_ name: String, callID: String) throws(ToolsError) -> RegisteredTool? {
        guard !name.contains("@"), !name.isEmpty else { return nil }
        do {
            return try registry.resolve(name)
        } catch {
            if error.code == .unknownTool { return nil }
            throw error
        }
    }

    public func measuredDigest(of tool: RegisteredTool, callID: String) -> String {
        (try? Data(contentsOf: tool.objectURL)).map { SHA256.hex($0) } ?? "missing"
    }
}
