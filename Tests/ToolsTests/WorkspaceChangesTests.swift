import AirlockCore
import Foundation
import Sandbox
import Testing

@testable import Tools

/// What a call did to its workspace: listed before and after on the real file system, compared,
/// and each new or changed file read once, within the bounds; and through the real sandbox, a
/// tool's writes arriving in its ``ToolRunResult``.
@Suite("Workspace changes")
struct WorkspaceChangesTests {
    let workspace: URL

    init() throws { workspace = try Fixtures.directory("ws-changes") }

    func write(_ text: String, _ name: String) throws {
        let url = workspace.appendingPathComponent(name)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func change(_ changes: WorkspaceChanges, _ path: String) -> FileChange? {
        changes.changes.first { $0.path == path }
    }

    @Test func createdModifiedAndRemovedFilesAreListedWithSizeDigestAndContent() throws {
        try write("old\n", "old.txt")
        try write("same\n", "same.txt")
        try write("v1\n", "notes.md")
        let before = WorkspaceChanges.snapshot(of: workspace)
        try write("v2, longer\n", "notes.md")
        try write("new\n", "sub/new.txt")
        try FileManager.default.removeItem(at: workspace.appendingPathComponent("old.txt"))
        let changes = WorkspaceChanges.since(before)
        #expect(changes.cut == nil)
        #expect(changes.changes.map(\.path) == ["notes.md", "old.txt", "sub", "sub/new.txt"])
        let notes = try #require(change(changes, "notes.md"))
        #expect(notes.change == .modified && notes.kind == .file)
        #expect(notes.bytes == 11)
        #expect(notes.sha256 == SHA256.hex(Array("v2, longer\n".utf8)))
        #expect(notes.content == "v2, longer\n")
        let old = try #require(change(changes, "old.txt"))
        #expect(old.change == .removed && old.bytes == 4 && old.sha256 == nil && old.content == nil)
        #expect(change(changes, "sub")?.kind == .directory)
        #expect(change(changes, "sub")?.change == .created)
        #expect(change(changes, "sub/new.txt")?.content == "new\n")
        #expect(change(changes, "same.txt") == nil)
    }

    @Test func linksAreRecordedNeverFollowedAndFifosNeverOpened() throws {
        let outside = try Fixtures.directory("outside")
        try Data("secret".utf8).write(to: outside.appendingPathComponent("inside-outside.txt"))
        let before = WorkspaceChanges.snapshot(of: workspace)
        try FileManager.default.createSymbolicLink(
            at: workspace.appendingPathComponent("escape"), withDestinationURL: outside)
        try FileManager.default.createSymbolicLink(
            atPath: workspace.appendingPathComponent("passwd").path, withDestinationPath: "/etc/passwd")
        #expect(mkfifo(workspace.appendingPathComponent("pipe").path, 0o600) == 0)
        let changes = WorkspaceChanges.since(before)
        #expect(changes.changes.map(\.path) == ["escape", "passwd", "pipe"])
        #expect(change(changes, "escape")?.kind == .symlink)
        #expect(change(changes, "escape")?.target == outside.path)
        #expect(change(changes, "passwd")?.target == "/etc/passwd")
        #expect(change(changes, "passwd")?.sha256 == nil)
        #expect(change(changes, "pipe")?.kind == .other)
        // Reading through the link by path is refused as well.
        #expect(throws: FileTree.Failure.self) {
            try FileTree.read(workspace.path, [Array("passwd".utf8)], keep: 100)
        }
    }

    @Test func binaryLargeAndOverBudgetFilesKeepTheirDigestOrSayWhyNot() throws {
        let limits = WorkspaceChanges.Limits(maxHashedBytes: 3000, maxContentBytes: 1000, maxContentBytesPerCall: 1500)
        let before = WorkspaceChanges.snapshot(of: workspace, limits: limits)
        try Data([0xFF, 0xFE, 0x00, 0x01]).write(to: workspace.appendingPathComponent("a.bin"))
        try write(String(repeating: "b", count: 1200), "b-large.txt")
        try write(String(repeating: "c", count: 900), "c.txt")
        try write(String(repeating: "d", count: 800), "d.txt")
        try write(String(repeating: "e", count: 200), "e.txt")
        let changes = WorkspaceChanges.since(before, limits: limits)
        let binary = try #require(change(changes, "a.bin"))
        #expect(binary.sha256 == SHA256.hex([0xFF, 0xFE, 0x00, 0x01]))
        #expect(binary.content == nil && binary.omitted?.contains("not UTF-8") == true)
        let large = try #require(change(changes, "b-large.txt"))
        #expect(large.sha256 != nil && large.content == nil && large.omitted?.contains("larger than 1000") == true)
        #expect(change(changes, "c.txt")?.content?.count == 900)
        // 900 of the call's 1500 bytes of content are spent: d's 800 no longer fit.
        let spent = try #require(change(changes, "d.txt"))
        #expect(spent.sha256 != nil && spent.content == nil && spent.omitted?.contains("spent") == true)
        // 4 + 1200 + 900 + 800 = 2904 bytes hashed: e's 200 are past the 3000.
        let unhashed = try #require(change(changes, "e.txt"))
        #expect(unhashed.sha256 == nil && unhashed.bytes == 200 && unhashed.omitted?.contains("hashed") == true)
    }

    @Test func theListingAndTheRecordAreBoundedAndSaySo() throws {
        for index in 0..<12 { try write("x", "f\(index).txt") }
        let listed = WorkspaceChanges.Limits(maxListed: 5)
        let before = WorkspaceChanges.snapshot(of: workspace, limits: listed)
        for index in 0..<12 { try write("changed \(index)", "f\(index).txt") }
        let changes = WorkspaceChanges.since(before, limits: listed)
        #expect(changes.changes.count == 5)
        #expect(changes.cut?.contains("12 changes; the first 5") == true, "\(changes.cut ?? "")")

        let few = WorkspaceChanges.Limits(maxEntries: 4)
        let cutBefore = WorkspaceChanges.snapshot(of: workspace, limits: few)
        #expect(cutBefore.listing?.cut?.contains("more than 4 entries") == true)
        try FileManager.default.removeItem(at: workspace.appendingPathComponent("f0.txt"))
        let cut = WorkspaceChanges.since(cutBefore, limits: few)
        #expect(cut.cut?.contains("more than 4 entries") == true)
        // A listing that was cut cannot tell a removed entry from one it did not reach.
        #expect(!cut.changes.contains { $0.change == .removed })
    }

    @Test func aWorkspaceThatCannotBeListedIsSaidSo() {
        let missing = workspace.appendingPathComponent("gone")
        let changes = WorkspaceChanges.since(WorkspaceChanges.snapshot(of: missing))
        #expect(changes.changes.isEmpty)
        #expect(changes.cut?.contains("could not be listed before the call") == true)
    }
}

/// A tool's writes, through the registry, the runner and the real sandbox.
@Suite(
    "Workspace changes in the sandbox", .serialized,
    .enabled(
        if: SandboxProbe.current.allLayersAvailable, "this host lacks a confinement layer (see `airlock sandbox probe`)"
    ))
struct WorkspaceChangesSandboxTests {
    static let writer = """
        #!/bin/sh
        printf 'first finding\\n' > report.txt
        mkdir -p out && printf '\\377\\001' > out/data.bin
        ln -s /etc/passwd leak
        rm -f old.txt
        echo done
        """

    func register(_ registry: ToolRegistry, filesystem: String) throws -> RegisteredTool {
        let text = """
            name: demo.writer
            version: 1.0.0
            description: Write a few files into the workspace.
            owner: tests@example.org
            executable:
              path: writer.sh
              sha256: \(SHA256.hex(Array(Self.writer.utf8)))
            argv: []
            input: {type: object, additionalProperties: false}
            filesystem: \(filesystem)
            risk: low
            """
        let dir = try Fixtures.directory("writer")
        try Fixtures.write(Self.writer, to: dir, "writer.sh", mode: 0o755)
        let file = try ManifestFile.load(try Fixtures.write(text, to: dir, "manifest.yaml"))
        _ = try registry.add([file])
        return try registry.resolve("demo.writer")
    }

    @Test func whatAToolWroteComesBackWithTheResult() async throws {
        let registry = try Fixtures.registry()
        let tool = try register(registry, filesystem: "{readWrite: [\"${workspace}\"]}")
        let workspace = try Fixtures.directory("ws-sandbox")
        try Data("stale".utf8).write(to: workspace.appendingPathComponent("old.txt"))
        let result = try await ToolRunner(registry: registry).run(
            tool, arguments: [:], context: ToolRunContext(workspace: workspace))
        #expect(result.exitCode == 0, "\(result.record.stderr.text)")
        let changes = try #require(result.workspaceChanges)
        #expect(changes.cut == nil)
        #expect(changes.changes.map(\.path) == ["leak", "old.txt", "out", "out/data.bin", "report.txt"])
        let report = try #require(changes.changes.first { $0.path == "report.txt" })
        let written = try Data(contentsOf: workspace.appendingPathComponent("report.txt"))
        #expect(report.sha256 == SHA256.hex(Array(written)) && report.content == "first finding\n")
        #expect(changes.changes.first { $0.path == "leak" }?.target == "/etc/passwd")
        #expect(changes.changes.first { $0.path == "old.txt" }?.change == .removed)
        #expect(changes.changes.first { $0.path == "out/data.bin" }?.omitted?.contains("not UTF-8") == true)
    }

    @Test func aToolThatCannotWriteTheWorkspaceRecordsNoChanges() async throws {
        let registry = try Fixtures.registry()
        let tool = try register(registry, filesystem: "{readOnly: [\"${workspace}\"]}")
        let result = try await ToolRunner(registry: registry).run(
            tool, arguments: [:], context: ToolRunContext(workspace: try Fixtures.directory("ws-readonly")))
        #expect(result.workspaceChanges == nil)
    }
}
