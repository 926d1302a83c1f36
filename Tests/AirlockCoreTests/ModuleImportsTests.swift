import Foundation
import Testing

/// Each module's README says what it imports (`Imports: …`), and the sources import exactly
/// that: a module that starts to import something its README does not admit fails here, and so
/// does a README that claims a boundary the code no longer keeps.
@Suite("module READMEs name their imports")
struct ModuleImportsTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// The modules that have Swift sources.
    static func swiftModules() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: sources.path).sorted().filter { name in
            let files =
                (try? FileManager.default.contentsOfDirectory(atPath: sources.appendingPathComponent(name).path))
            return files?.contains { $0.hasSuffix(".swift") } == true
        }
    }

    /// Every module a module's sources import, outside string literals.
    static func imports(of module: String) throws -> Set<String> {
        let directory = sources.appendingPathComponent(module)
        var found: Set<String> = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            var inString = false
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let delimiters = line.components(separatedBy: "\"\"\"").count - 1
                if !inString {
                    var words = line.split(separator: " ").map(String.init)
                    while let first = words.first, first.hasPrefix("@") { words.removeFirst() }
                    if words.count >= 2, words[0] == "import" { found.insert(words[words.count - 1]) }
                }
                if delimiters % 2 == 1 { inString.toggle() }
            }
        }
        return found
    }

    /// The modules a README's `Imports:` paragraph names in backticks (what a parenthesis says
    /// about why is not a module).
    static func declared(by module: String) throws -> Set<String>? {
        let url = sources.appendingPathComponent(module).appendingPathComponent("README.md")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        let paragraphs = text.components(separatedBy: "\n\n")
        guard let paragraph = paragraphs.first(where: { $0.hasPrefix("Imports:") }) else { return nil }
        var depth = 0
        let names = String(
            paragraph.filter { character in
                if character == "(" { depth += 1 }
                defer { if character == ")" { depth -= 1 } }
                return depth == 0 && character != ")"
            })
        let parts = names.components(separatedBy: "`")
        return Set(stride(from: 1, to: parts.count, by: 2).map { parts[$0] })
    }

    @Test(arguments: try swiftModules())
    func theReadmeNamesExactlyWhatTheSourcesImport(_ module: String) throws {
        let declared = try #require(
            try Self.declared(by: module), "Sources/\(module)/README.md has no paragraph starting `Imports:`")
        let actual = try Self.imports(of: module)
        #expect(
            actual.subtracting(declared).isEmpty,
            "Sources/\(module) imports \(actual.subtracting(declared).sorted()) that its README does not name")
        #expect(
            declared.subtracting(actual).isEmpty,
            "Sources/\(module)/README.md names \(declared.subtracting(actual).sorted()) that it does not import")
    }
}
