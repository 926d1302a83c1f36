import AirlockCore
import Foundation
import SQLiteSupport

/// The tool registry: every version of every manifest in SQLite (`AIRLOCK_HOME/registry.sqlite`),
/// and a content-addressed, read-only copy of each executable (`AIRLOCK_HOME/tools/objects/<sha256>`).
///
/// Versions are never deleted (traces refer to them); `remove` only retires a tool. An add is one
/// transaction: on any error nothing is registered.
public struct ToolRegistry: Sendable {
    /// The registry database.
    public let databaseURL: URL
    /// Where executables are stored by digest.
    public let objectsURL: URL
    /// How long to wait for another writer's lock, in milliseconds. Default 5000.
    public var busyTimeoutMilliseconds: Int32
    /// How manifests read back from the database are decoded.
    public var decoder: ManifestDecoder

    /// Opens the registry under `home` (nothing is created until the first operation).
    /// - Parameters:
    ///   - home: `AIRLOCK_HOME`.
    ///   - busyTimeoutMilliseconds: how long to wait for another writer (default 5000 ms).
    ///   - decoder: the manifest decoder (default limits).
    public init(home: URL, busyTimeoutMilliseconds: Int32 = 5000, decoder: ManifestDecoder = ManifestDecoder()) {
        databaseURL = home.appendingPathComponent("registry.sqlite")
        objectsURL = home.appendingPathComponent("tools/objects", isDirectory: true)
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.decoder = decoder
    }

    private static let schema = """
        CREATE TABLE IF NOT EXISTS tool_versions (
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            revision INTEGER NOT NULL,
            manifest_sha256 TEXT NOT NULL,
            executable_sha256 TEXT NOT NULL,
            manifest_json TEXT NOT NULL,
            source_path TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (name, version),
            UNIQUE (name, revision)
        );
        CREATE TABLE IF NOT EXISTS tool_status (
            name TEXT PRIMARY KEY,
            retired_at TEXT
        );
        """

    private func open() throws(ToolsError) -> RegistryDatabase {
        do {
            try FileManager.default.createDirectory(
                at: databaseURL.deletingLastPathComponent(), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw ToolsError(
                .io, "registry: cannot create \(databaseURL.deletingLastPathComponent().path)", cause: error)
        }
        let db = try RegistryDatabase(
            path: databaseURL.path, configuration: .init(busyTimeoutMilliseconds: busyTimeoutMilliseconds),
            mapError: ToolsError.init(registry:))
        try db.execute(Self.schema)
        return db
    }

    /// Registers manifests, all or nothing.
    ///
    /// An unchanged manifest is a no-op; a changed one must carry a version higher than every
    /// registered one and becomes a new revision; a retired tool is reactivated by adding it again.
    /// - Parameter files: manifests loaded (and checked against their pins) by ``ManifestFile``.
    /// - Returns: one outcome per file.
    /// - Throws: ``ToolsError``: `invalid-manifest` (two files with one name), `version-conflict`,
    ///   `registry`, `io`; nothing is registered.
    public func add(_ files: [ManifestFile]) throws(ToolsError) -> [AddOutcome] {
        var seen: [String: String] = [:]
        for file in files {
            if let other = seen[file.manifest.name] {
                throw ToolsError(
                    .invalidManifest,
                    "duplicate name \(file.manifest.name): both \(other) and \(file.url.path) declare it; nothing registered"
                )
            }
            seen[file.manifest.name] = file.url.path
        }
        let db = try open()
        let now = Self.timestamp()
        return try db.transaction { () throws(ToolsError) -> [AddOutcome] in
            var outcomes: [AddOutcome] = []
            for file in files {
                outcomes.append(try add(file, db: db, now: now))
            }
            return outcomes
        }
    }

    private func add(_ file: ManifestFile, db: RegistryDatabase, now: String) throws(ToolsError) -> AddOutcome {
        let m = file.manifest
        let rows = try db.rows(
            "SELECT version, revision, manifest_sha256 FROM tool_versions WHERE name = ? ORDER BY revision",
            [.text(m.name)])
        let retired = try db.rows("SELECT retired_at FROM tool_status WHERE name = ?", [.text(m.name)]).first?.first?
            .text
        if let latest = rows.last, latest[2].text == m.manifestSHA256 {
            // Re-storing is a no-op for an intact object and repairs one that drifted.
            try storeObject(file.executableURL, sha256: file.executableSHA256)
            if retired != nil {
                try db.query("UPDATE tool_status SET retired_at = NULL WHERE name = ?", [.text(m.name)])
                return .reactivated(name: m.name, version: m.version)
            }
            return .unchanged(name: m.name, version: m.version)
        }
        if let same = rows.first(where: { $0[0].text == m.version }) {
            throw ToolsError(
                .versionConflict,
                "\(file.url.path): \(m.name)@\(m.version) is already registered with different content (revision \(same[1].integer ?? 0)); bump version to register the change"
            )
        }
        if let latest = rows.last?[0].text, !ToolManifestRules.isHigher(m.version, than: latest) {
            throw ToolsError(
                .versionConflict,
                "\(file.url.path): \(m.name) version \(m.version) must be higher than the latest registered \(latest)")
        }
        try storeObject(file.executableURL, sha256: file.executableSHA256)
        let revision = (rows.last?[1].integer ?? 0) + 1
        try db.query(
            "INSERT INTO tool_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .text(m.name), .text(m.version), .integer(revision), .text(m.manifestSHA256),
                .text(file.executableSHA256), .text(m.document.canonicalString), .text(file.url.path), .text(now),
            ])
        try db.query(
            "INSERT INTO tool_status (name, retired_at) VALUES (?, NULL) ON CONFLICT(name) DO UPDATE SET retired_at = NULL",
            [.text(m.name)])
        return .added(name: m.name, version: m.version, revision: Int(revision))
    }

    /// Copies an executable into the object store under its digest (read-only, mode 0555), checking
    /// the copy's digest so that a file changed between hashing and copying is never stored.
    private func storeObject(_ source: URL, sha256: String) throws(ToolsError) {
        let fm = FileManager.default
        let target = objectsURL.appendingPathComponent(sha256)
        if fm.fileExists(atPath: target.path),
            (try? ManifestFile.digest(of: target, label: "object")) == sha256
        {
            return
        }
        let temporary = objectsURL.appendingPathComponent(".incoming-\(UUID().uuidString)")
        do {
            // Traversable (not listable) by the sandbox's unprivileged user, which must reach the
            // object it bind-mounts; the objects are executables, read-only for everyone.
            try fm.createDirectory(
                at: objectsURL, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            try fm.setAttributes([.posixPermissions: 0o711], ofItemAtPath: objectsURL.deletingLastPathComponent().path)
            try fm.copyItem(at: source, to: temporary)
        } catch {
            throw ToolsError(.io, "registry: cannot copy \(source.path) into \(objectsURL.path)", cause: error)
        }
        defer { try? fm.removeItem(at: temporary) }
        let copied = try ManifestFile.digest(of: temporary, label: "object")
        guard copied == sha256 else {
            throw ToolsError(
                .digestMismatch,
                "registry: \(source.path) changed while it was being registered (sha256 \(copied), pinned \(sha256))",
                threats: ["maestro:L4", "maestro:L7", "asi:04"])
        }
        do {
            try fm.setAttributes([.posixPermissions: 0o555], ofItemAtPath: temporary.path)
            if fm.fileExists(atPath: target.path) { try fm.removeItem(at: target) }
            try fm.moveItem(at: temporary, to: target)
        } catch {
            throw ToolsError(.io, "registry: cannot store \(target.path)", cause: error)
        }
    }

    /// The latest version of every tool, by name.
    /// - Parameter includeRetired: whether retired tools are listed too (default false).
    /// - Throws: ``ToolsError`` (`registry`).
    public func list(includeRetired: Bool = false) throws(ToolsError) -> [RegisteredTool] {
        let rows = try open().rows(
            """
            SELECT v.manifest_json, v.revision, v.added_at, v.source_path, s.retired_at FROM tool_versions v
            LEFT JOIN tool_status s ON s.name = v.name
            WHERE v.revision = (SELECT MAX(revision) FROM tool_versions w WHERE w.name = v.name)
            ORDER BY v.name
            """)
        return try rows.map { row throws(ToolsError) in try tool(from: row) }
            .filter { includeRetired || $0.retiredAt == nil }
    }

    /// Every version of one tool, oldest first (empty when unknown).
    /// - Throws: ``ToolsError`` (`registry`).
    public func versions(of name: String) throws(ToolsError) -> [RegisteredTool] {
        let rows = try open().rows(
            """
            SELECT v.manifest_json, v.revision, v.added_at, v.source_path, s.retired_at FROM tool_versions v
            LEFT JOIN tool_status s ON s.name = v.name WHERE v.name = ? ORDER BY v.revision
            """, [.text(name)])
        return try rows.map { row throws(ToolsError) in try tool(from: row) }
    }

    /// Finds `NAME` (the latest version) or `NAME@VERSION`.
    /// - Parameter allowRetired: whether a retired tool may be returned (default false: running one is refused).
    /// - Throws: ``ToolsError`` (`unknown-tool`, `registry`).
    public func resolve(_ reference: String, allowRetired: Bool = false) throws(ToolsError) -> RegisteredTool {
        let parts = reference.split(separator: "@", maxSplits: 1).map(String.init)
        let name = parts.first ?? reference
        let all = try versions(of: name)
        guard let latest = all.last else {
            throw ToolsError(
                .unknownTool, "unknown tool \(name): it is not registered (see `airlock tools list`)",
                threats: ["maestro:L3", "asi:02"])
        }
        if latest.retiredAt != nil && !allowRetired {
            throw ToolsError(
                .unknownTool,
                "tool \(name) was retired at \(latest.retiredAt ?? ""); add its manifest again to reactivate it",
                threats: ["nhi:01"])
        }
        guard parts.count == 2 else { return latest }
        guard let match = all.first(where: { $0.manifest.version == parts[1] }) else {
            throw ToolsError(
                .unknownTool,
                "tool \(name) has no version \(parts[1]) (registered: \(all.map(\.manifest.version).joined(separator: ", ")))"
            )
        }
        return match
    }

    /// Retires a tool: it can no longer be run or resolved by name; its versions stay.
    /// - Returns: `false` when it was already retired.
    /// - Throws: ``ToolsError`` (`unknown-tool`, `registry`).
    @discardableResult
    public func remove(_ name: String) throws(ToolsError) -> Bool {
        let db = try open()
        return try db.transaction { () throws(ToolsError) -> Bool in
            guard let row = try db.rows("SELECT retired_at FROM tool_status WHERE name = ?", [.text(name)]).first
            else {
                throw ToolsError(.unknownTool, "unknown tool \(name): it is not registered")
            }
            guard row.first?.text == nil else { return false }
            try db.query(
                "UPDATE tool_status SET retired_at = ? WHERE name = ?", [.text(Self.timestamp()), .text(name)])
            return true
        }
    }

    /// Re-hashes the stored executable of `tool` and returns its URL when it still matches the pin.
    /// - Throws: ``ToolsError`` (`digest-mismatch` naming both digests, `executable-missing`).
    public func verifiedExecutable(of tool: RegisteredTool) throws(ToolsError) -> URL {
        let pinned = tool.manifest.executable.sha256
        let actual = try ManifestFile.digest(of: tool.objectURL, label: "\(tool.reference): stored executable")
        guard actual == pinned else {
            throw ToolsError(
                .digestMismatch,
                "\(tool.reference): refusing to run: the stored executable \(tool.objectURL.path) has sha256 \(actual) but the registered pin is \(pinned) (asi:04 supply-chain drift)",
                threats: ["maestro:L4", "maestro:L7", "asi:04"])
        }
        return tool.objectURL
    }

    private func tool(from row: [SQLiteValue]) throws(ToolsError) -> RegisteredTool {
        let json = row[0].text ?? ""
        let document: JSONValue
        do {
            document = try JSONParser().parse(json)
        } catch {
            throw ToolsError(.registry, "registry: a stored manifest is not valid JSON", cause: error)
        }
        let manifest = try decoder.decode(document)
        return RegisteredTool(
            manifest: manifest, revision: Int(row[1].integer ?? 0), addedAt: row[2].text ?? "",
            sourcePath: row[3].text ?? "", retiredAt: row[4].text,
            objectURL: objectsURL.appendingPathComponent(manifest.executable.sha256))
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
