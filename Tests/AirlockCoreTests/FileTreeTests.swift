import AirlockCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Walking, reading and removing a tree a tool wrote, on the real file system: no link is ever
/// followed, not the root's and not one below it.
@Suite("File tree")
struct FileTreeTests {
    let root: URL
    let outside: URL

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("filetree-\(UUID().uuidString)")
        root = base.appendingPathComponent("tree")
        outside = base.appendingPathComponent("outside")
        for directory in [root, outside] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        try Data("keep me".utf8).write(to: outside.appendingPathComponent("precious.txt"))
    }

    @Test func aListingShowsLinksAsLinksAndRefusesALinkedRoot() throws {
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("out"), withDestinationURL: outside)
        try Data("a".utf8).write(to: root.appendingPathComponent("a.txt"))
        let listing = try FileTree.list(root.path, maxEntries: 100, maxDepth: 8)
        #expect(listing.entries.map(\.path) == ["a.txt", "out"])
        #expect(listing.entries.map(\.kind) == [.file, .symlink])
        let linked = root.deletingLastPathComponent().appendingPathComponent("linked-root")
        try FileManager.default.createSymbolicLink(at: linked, withDestinationURL: root)
        let error = #expect(throws: FileTree.Failure.self) {
            try FileTree.list(linked.path, maxEntries: 100, maxDepth: 8)
        }
        // O_NOFOLLOW with O_DIRECTORY: a link is not a directory.
        #expect(error?.code == ENOTDIR || error?.code == ELOOP)
    }

    @Test func removingATreeRemovesItsLinksAndNothingTheyPointTo() throws {
        let tree = root.appendingPathComponent("ws")
        let locked = tree.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: locked.appendingPathComponent("inner.txt"))
        try FileManager.default.createSymbolicLink(
            at: tree.appendingPathComponent("escape"), withDestinationURL: outside)
        try FileManager.default.createSymbolicLink(
            at: locked.appendingPathComponent("file-link"),
            withDestinationURL: outside.appendingPathComponent("precious.txt"))
        // A tool may take its own directory's write and search bits away.
        try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: locked.path)
        try FileTree.remove(Array("ws".utf8), in: root.path, maxDepth: 16)
        #expect(!FileManager.default.fileExists(atPath: tree.path))
        #expect(try String(contentsOf: outside.appendingPathComponent("precious.txt"), encoding: .utf8) == "keep me")
        // Removing what is already gone is no failure.
        try FileTree.remove(Array("ws".utf8), in: root.path, maxDepth: 16)
    }

    @Test func aTreeDeeperThanTheBoundIsRefusedAtThatLevel() throws {
        var deep = root.appendingPathComponent("deep")
        for level in 0..<5 { deep.appendPathComponent("d\(level)") }
        try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
        let error = #expect(throws: FileTree.Failure.self) {
            try FileTree.remove(Array("deep".utf8), in: root.path, maxDepth: 3)
        }
        #expect(error?.reason.contains("more than 3 directory levels") == true)
    }

    @Test func namesThatAreNotUTF8AreShownWithTheirBytesEscaped() throws {
        let name: [UInt8] = [0x61, 0xFF, 0x62]
        let path = (Array(root.path.utf8) + [0x2F] + name).map { CChar(bitPattern: $0) } + [0]
        let created = creat(path, 0o600)
        try #require(created >= 0)
        close(created)
        let listing = try FileTree.list(root.path, maxEntries: 10, maxDepth: 1)
        #expect(listing.entries.map(\.path) == ["a\\xFFb"])
        #expect(listing.entries.first?.components == [name])
        #expect(try FileTree.read(root.path, [name], keep: 10).bytes == 0)
    }
}
