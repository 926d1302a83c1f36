import AirlockCore
import Foundation

/// The site's configuration for tools: the named read-only datasets `${dataset:NAME}` refers to.
///
/// Read from `AIRLOCK_HOME/site.yaml`:
/// ```yaml
/// datasets:
///   logs: /srv/airlock/data/logs
/// ```
/// Other top-level sections belong to other modules and are ignored here.
public struct SiteConfiguration: Sendable, Hashable {
    /// Dataset name → absolute host directory.
    public var datasets: [String: URL]

    /// Creates a configuration.
    public init(datasets: [String: URL] = [:]) {
        self.datasets = datasets
    }

    /// Reads `url`; a missing file is an empty configuration.
    /// - Throws: ``ToolsError`` (`invalid-manifest` with every problem, `io`).
    public static func load(_ url: URL) throws(ToolsError) -> SiteConfiguration {
        guard FileManager.default.fileExists(atPath: url.path) else { return SiteConfiguration() }
        let text = try ManifestFile.read(url)
        let document = try ManifestDecoder.parseYAML(text, label: url.path)
        var reader = ManifestReader(source: document)
        var config = SiteConfiguration()
        let datasets = reader.object(document.value["datasets"], "/datasets", allowed: nil, required: [])
        for name in (datasets ?? [:]).keys.sorted() {
            let pointer = JSONPointer.appending("/datasets", name)
            if !PathVariable.isDatasetName(name) {
                reader.problem(pointer, "dataset name must be letters, digits, '_' or '-'")
            }
            if let path = reader.string(datasets, "/datasets", name, check: Self.checkPath) {
                config.datasets[name] = URL(fileURLWithPath: path, isDirectory: true)
            }
        }
        guard reader.problems.isEmpty else {
            throw ToolsError(
                .invalidManifest, "\(url.path): \(reader.problems.count) problem(s)", problems: reader.problems)
        }
        return config
    }

    /// Parses `NAME=PATH` (the `--dataset` option); a relative path is taken from `base`.
    /// - Throws: ``ToolsError`` (`invalid-path`).
    public static func parseDataset(_ text: String, base: URL) throws(ToolsError) -> (String, URL) {
        guard let equals = text.firstIndex(of: "=") else {
            throw ToolsError(.invalidPath, "--dataset \(text): expected NAME=PATH")
        }
        let name = String(text[..<equals])
        let path = String(text[text.index(after: equals)...])
        guard PathVariable.isDatasetName(name), !path.isEmpty, !path.utf8.contains(0) else {
            throw ToolsError(
                .invalidPath, "--dataset \(text): NAME must be letters, digits, '_' or '-' and PATH non-empty")
        }
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
        return (name, url.standardizedFileURL)
    }

    private static func checkPath(_ path: String) -> String? {
        guard path.hasPrefix("/"), !path.utf8.contains(0) else { return "must be an absolute path" }
        let components = path.split(separator: "/")
        guard !components.contains(".."), !components.contains(".") else {
            return "must not contain . or .. components"
        }
        return nil
    }
}
