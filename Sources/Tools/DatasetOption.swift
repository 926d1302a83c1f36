import Foundation

/// `--dataset NAME=PATH`: a dataset directory for one `tools test`, overriding the site's.
public enum DatasetOption {
    /// Parses `NAME=PATH`; a relative path is taken from `base`.
    /// - Throws: ``ToolsError`` (`invalid-path`).
    public static func parse(_ text: String, base: URL) throws(ToolsError) -> (String, URL) {
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
}
