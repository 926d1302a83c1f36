import Foundation
import Testing

/// A temporary `AIRLOCK_HOME` set up as a site would: mode 0711, the sample datasets
/// (`tools/setup-sample-site`) and every shipped tool registered.
enum SampleSite {
    /// The repository root.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The shipped tool manifests (`manifests/tools/*.yaml`).
    static var toolManifests: [URL] {
        let directory = root.appendingPathComponent("manifests/tools")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// Changes every recorded event of the trace under `home` that holds `text`, as an attacker
    /// with the database file would (the append-only trigger dropped first), so that its runs no
    /// longer verify.
    static func tamperTrace(_ home: URL, replacing text: String, with other: String) throws {
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [
            home.appendingPathComponent("trace.sqlite").path,
            "DROP TRIGGER IF EXISTS events_append_only_u; UPDATE events SET body = CAST(replace(CAST(body AS TEXT), '\(text)', '\(other)') AS BLOB) WHERE CAST(body AS TEXT) LIKE '%\(text)%';",
        ]
        try sqlite.run()
        sqlite.waitUntilExit()
        try #require(sqlite.terminationStatus == 0)
    }

    /// Creates the home and returns it.
    static func make(_ label: String) throws -> URL {
        let home = try CLI.temporaryDirectory(label)
        try FileManager.default.setAttributes([.posixPermissions: 0o711], ofItemAtPath: home.path)
        let setup = Process()
        setup.executableURL = root.appendingPathComponent("tools/setup-sample-site")
        setup.environment = ["AIRLOCK_HOME": home.path, "PATH": "/usr/local/bin:/usr/bin:/bin"]
        setup.standardOutput = FileHandle.nullDevice
        try setup.run()
        setup.waitUntilExit()
        try #require(setup.terminationStatus == 0)
        let added = try CLI.run(["tools", "add"] + toolManifests.map(\.path), environment: ["AIRLOCK_HOME": home.path])
        try #require(added.status == 0, "\(added.stderr)")
        return home
    }
}
