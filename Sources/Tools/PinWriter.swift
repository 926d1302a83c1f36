import AirlockCore
import Foundation

/// Writes `executable.sha256` into a block-style YAML manifest, keeping every other byte (and
/// every comment) as it was.
enum PinWriter {
    static func write(_ digest: String, into text: String, document: YAMLDocument, file: String) throws(ToolsError)
        -> String
    {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let byHand = ToolsError(
            .invalidManifest,
            "\(file): cannot write the pin into this layout (JSON or flow-style YAML); set executable.sha256 to \(digest) by hand"
        )
        if let line = document.lines["/executable/sha256"], line >= 1, line <= lines.count {
            let current = lines[line - 1]
            guard
                let range = current.range(
                    of: #"sha256:\s*("[^"]*"|'[^']*'|[0-9A-Za-z]*)"#, options: .regularExpression),
                current.trimmingCharacters(in: .whitespaces).hasPrefix("sha256:")
            else { throw byHand }
            lines[line - 1] = current.replacingCharacters(in: range, with: "sha256: \(digest)")
        } else if let line = document.lines["/executable/path"], line >= 1, line <= lines.count {
            let current = lines[line - 1]
            let trimmed = current.drop { $0 == " " }
            guard trimmed.hasPrefix("path:") else { throw byHand }
            let indent = String(repeating: " ", count: current.count - trimmed.count)
            lines.insert(indent + "sha256: " + digest, at: line)
        } else {
            throw byHand
        }
        return lines.joined(separator: "\n")
    }
}
