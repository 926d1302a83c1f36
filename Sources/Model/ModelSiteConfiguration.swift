import AirlockCore
import Foundation

/// The site's configuration for models: the internal hosts a model endpoint may name besides
/// loopback (`model_hosts:` in `AIRLOCK_HOME/site.yaml`) and the tool calling mode
/// (`tool_calling: native|constrained`). Other sections belong to other modules.
public struct ModelSiteConfiguration: Sendable, Hashable {
    /// Host names or addresses, lowercased.
    public var modelHosts: [String]
    /// The site's tool calling mode, or `nil` to let each model's default decide.
    public var toolCalling: ToolCallingMode?

    /// Creates a configuration.
    /// - Parameters:
    ///   - modelHosts: internal model hosts besides loopback (default none).
    ///   - toolCalling: the site's tool calling mode (default none: the model's default).
    public init(modelHosts: [String] = [], toolCalling: ToolCallingMode? = nil) {
        self.modelHosts = modelHosts
        self.toolCalling = toolCalling
    }

    /// Reads `url`; a missing file is an empty configuration.
    /// - Throws: ``ModelError`` `io` when the file cannot be read or parsed, naming the field and line.
    public static func load(_ url: URL) throws(ModelError) -> ModelSiteConfiguration {
        guard FileManager.default.fileExists(atPath: url.path) else { return ModelSiteConfiguration() }
        let text: String
        let document: YAMLDocument
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ModelError(.io, "cannot read \(url.path)", cause: "\(error)")
        }
        do {
            document = try YAMLDocument(text: text)
        } catch {
            throw ModelError(.io, "\(url.path): not valid YAML", cause: "\(error)")
        }
        var toolCalling: ToolCallingMode?
        if let mode = document.value["tool_calling"] {
            guard let text = mode.stringValue, let parsed = ToolCallingMode(rawValue: text) else {
                let line = document.line(for: "/tool_calling").map { " (line \($0))" } ?? ""
                throw ModelError(.io, "\(url.path): /tool_calling\(line) must be native or constrained")
            }
            toolCalling = parsed
        }
        guard let hosts = document.value["model_hosts"] else { return ModelSiteConfiguration(toolCalling: toolCalling) }
        guard let list = hosts.arrayValue else {
            let line = document.line(for: "/model_hosts").map { " (line \($0))" } ?? ""
            throw ModelError(.io, "\(url.path): /model_hosts\(line) must be a list of host names")
        }
        var result: [String] = []
        for (index, entry) in list.enumerated() {
            guard let host = entry.stringValue, !host.isEmpty else {
                let line = document.line(for: "/model_hosts/\(index)").map { " (line \($0))" } ?? ""
                throw ModelError(.io, "\(url.path): /model_hosts/\(index)\(line) must be a host name")
            }
            result.append(host.lowercased())
        }
        return ModelSiteConfiguration(modelHosts: result, toolCalling: toolCalling)
    }
}
