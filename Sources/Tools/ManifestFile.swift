import AirlockCore
import Foundation

/// A manifest read from a file, with its executable located and hashed.
///
/// A relative `executable.path` is relative to the manifest file's directory.
public struct ManifestFile: Sendable {
    /// The manifest file.
    public var url: URL
    /// The file's text (with the pin written in, when ``pinned(_:decoder:)`` produced it).
    public var text: String
    /// The decoded manifest.
    public var manifest: ToolManifest
    /// The executable on the host.
    public var executableURL: URL
    /// The executable's actual SHA-256.
    public var executableSHA256: String
    /// For a `kind: mcp` manifest, the server it declares (``manifest`` is then the server as a
    /// tool manifest, which is never registered itself: its tools are).
    public var server: MCPServerManifest? = nil

    /// Reads, decodes and checks a manifest file: the executable must exist, be a regular file,
    /// and match its pin.
    /// - Throws: ``ToolsError``: `io`, `invalid-manifest` (every problem), `executable-missing`,
    ///   `digest-mismatch` (both digests).
    public static func load(_ url: URL, decoder: ManifestDecoder = ManifestDecoder()) throws(ToolsError) -> ManifestFile
    {
        try load(url, text: read(url), decoder: decoder)
    }

    /// Like ``load(_:decoder:)``, but first computes the executable's digest and writes it into the
    /// manifest text as `executable.sha256` (the file itself is written by ``writePin()``).
    /// - Throws: ``ToolsError`` as ``load(_:decoder:)``, or `invalid-manifest` when the pin cannot be
    ///   placed (flow-style YAML or JSON: the message gives the digest to write by hand).
    public static func pinned(_ url: URL, decoder: ManifestDecoder = ManifestDecoder()) throws(ToolsError)
        -> ManifestFile
    {
        let text = try read(url)
        // Not YAML: let the normal path report it with its line.
        guard let document = try? YAMLDocument(text: text) else { return try load(url, text: text, decoder: decoder) }
        guard let path = document.value["executable"]?["path"]?.stringValue else {
            return try load(url, text: text, decoder: decoder)
        }
        let executable = resolve(path, relativeTo: url)
        let digest = try digest(of: executable, label: "executable \(path)")
        let newText = try PinWriter.write(digest, into: text, document: document, file: url.path)
        return try load(url, text: newText, decoder: decoder)
    }

    /// Writes ``text`` back to ``url`` if it differs from the file (after `--pin`).
    /// - Returns: whether the file changed.
    /// - Throws: ``ToolsError`` (`io`).
    @discardableResult
    public func writePin() throws(ToolsError) -> Bool {
        guard (try? Self.read(url)) != text else { return false }
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw ToolsError(.io, "\(url.path): cannot write the pin", cause: error)
        }
        return true
    }

    static func load(_ url: URL, text: String, decoder: ManifestDecoder) throws(ToolsError) -> ManifestFile {
        var manifest: ToolManifest
        var server: MCPServerManifest? = nil
        do {
            let yaml = try ManifestDecoder.parseYAML(text, label: "manifest")
            if MCPServerManifest.isServer(yaml.value) {
                let declared = try decoder.decodeServer(yaml)
                server = declared
                manifest = declared.server
            } else {
                manifest = try decoder.decode(yaml)
            }
        } catch var error {
            error.message = "\(url.path): \(error.message)"
            if let problem = missingExecutable(text: text, manifest: url) { error.problems.append(problem) }
            throw error
        }
        let executable = resolve(manifest.executable.path, relativeTo: url)
        let actual = try digest(of: executable, label: "\(url.path): executable \(manifest.executable.path)")
        guard actual == manifest.executable.sha256 else {
            throw ToolsError(
                .digestMismatch,
                "\(url.path): executable \(executable.path) has sha256 \(actual) but the manifest pins \(manifest.executable.sha256); rebuild the executable or re-pin with --pin (and bump version)",
                threats: ["maestro:L4", "maestro:L7", "asi:04"])
        }
        manifest.executable.sha256 = actual
        server?.server.executable.sha256 = actual
        return ManifestFile(
            url: url, text: text, manifest: manifest, executableURL: executable, executableSHA256: actual,
            server: server)
    }

    /// A missing executable, reported together with a manifest's other problems.
    private static func missingExecutable(text: String, manifest url: URL) -> FieldProblem? {
        guard let yaml = try? YAMLDocument(text: text), let path = yaml.value["executable"]?["path"]?.stringValue,
            !path.isEmpty
        else { return nil }
        let executable = resolve(path, relativeTo: url)
        guard !FileManager.default.fileExists(atPath: executable.path) else { return nil }
        return FieldProblem(
            pointer: "/executable/path", line: yaml.line(for: "/executable/path"),
            message: "\(executable.path) does not exist")
    }

    static func read(_ url: URL) throws(ToolsError) -> String {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ToolsError(.notFound, "\(url.path): no such manifest")
        }
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ToolsError(.io, "\(url.path): cannot read the manifest", cause: error)
        }
    }

    static func resolve(_ path: String, relativeTo manifest: URL) -> URL {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path).standardizedFileURL }
        return manifest.deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL
    }

    /// The SHA-256 of a regular file, read in chunks.
    /// - Parameter chunkBytes: bytes read per step (default 1 MiB).
    static func digest(of url: URL, label: String, chunkBytes: Int = 1 << 20) throws(ToolsError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ToolsError(.executableMissing, "\(label): \(url.path) does not exist or is not a regular file")
        }
        do {
            return try SHA256.hex(contentsOf: url, chunkBytes: chunkBytes)
        } catch {
            throw ToolsError(.io, "\(label): cannot read \(url.path)", cause: error)
        }
    }
}
