import AirlockCore
import Foundation
import Testing

@testable import Tools

@Suite("Tool registry (real SQLite)")
struct ToolRegistryTests {
    let registry: ToolRegistry

    init() throws { registry = try Fixtures.registry() }

    func load(_ text: String = Fixtures.manifest()) throws -> ManifestFile {
        try ManifestFile.load(Fixtures.manifestDirectory(text).1)
    }

    @Test func addStoresAVersionAndAContentAddressedExecutable() throws {
        let file = try load()
        #expect(try registry.add([file]) == [.added(name: "demo.echo", version: "1.0.0", revision: 1)])
        let tool = try registry.resolve("demo.echo")
        #expect(tool.revision == 1 && tool.retiredAt == nil)
        #expect(tool.manifest.manifestSHA256 == file.manifest.manifestSHA256)
        #expect(tool.objectURL.lastPathComponent == file.executableSHA256)
        #expect(try String(contentsOf: tool.objectURL, encoding: .utf8) == Fixtures.script)
        let mode = try FileManager.default.attributesOfItem(atPath: tool.objectURL.path)[.posixPermissions] as? Int
        #expect(mode == 0o555)
        #expect(try registry.verifiedExecutable(of: tool) == tool.objectURL)
    }

    @Test func anUnchangedManifestIsANoOp() throws {
        _ = try registry.add([try load()])
        #expect(try registry.add([try load()]) == [.unchanged(name: "demo.echo", version: "1.0.0")])
        #expect(try registry.versions(of: "demo.echo").count == 1)
    }

    @Test func aChangedManifestNeedsAHigherVersionAndOldVersionsStay() throws {
        _ = try registry.add([try load()])
        let changed = Fixtures.manifest(extra: "threats: [\"asi:02\"]")
        #expect(throws: ToolsError.self) { try registry.add([try load(changed)]) }
        do {
            _ = try registry.add([try load(changed)])
        } catch let error as ToolsError {
            #expect(error.code == .versionConflict)
            #expect(error.message.contains("bump version"))
        }
        #expect(
            try registry.add([try load(Fixtures.manifest(version: "1.1.0", extra: "threats: [\"asi:02\"]"))]) == [
                .added(name: "demo.echo", version: "1.1.0", revision: 2)
            ])
        do {
            _ = try registry.add([try load(Fixtures.manifest(version: "1.0.5", extra: "risk2: x"))])
        } catch let error as ToolsError {
            #expect(error.code == .invalidManifest)
        }
        do {
            _ = try registry.add([try load(Fixtures.manifest(version: "1.0.5", extra: "threats: [\"asi:03\"]"))])
            Issue.record("a lower version was accepted")
        } catch let error as ToolsError {
            #expect(error.code == .versionConflict)
            #expect(error.message.contains("must be higher than the latest registered 1.1.0"))
        }
        #expect(try registry.versions(of: "demo.echo").map(\.manifest.version) == ["1.0.0", "1.1.0"])
        #expect(try registry.resolve("demo.echo").manifest.version == "1.1.0")
        #expect(try registry.resolve("demo.echo@1.0.0").manifest.threats == [])
        #expect(throws: ToolsError.self) { try registry.resolve("demo.echo@9.9.9") }
    }

    @Test func addIsAllOrNothing() throws {
        let good = try load()
        let other = try load(Fixtures.manifest(name: "demo.other"))
        _ = try registry.add([other])
        // The second file conflicts (same version, different content): the first must not be registered.
        let conflicting = try load(Fixtures.manifest(name: "demo.other", extra: "threats: [\"asi:02\"]"))
        #expect(throws: ToolsError.self) { try registry.add([good, conflicting]) }
        #expect(throws: ToolsError.self) { try registry.resolve("demo.echo") }
        #expect(try registry.list().map(\.manifest.name) == ["demo.other"])
    }

    @Test func duplicateNamesInOneAddAreRefused() throws {
        do {
            _ = try registry.add([try load(), try load(Fixtures.manifest(version: "2.0.0"))])
            Issue.record("duplicate names were accepted")
        } catch let error as ToolsError {
            #expect(error.code == .invalidManifest)
            #expect(error.message.contains("duplicate name demo.echo"))
        }
        #expect(try registry.list().isEmpty)
    }

    @Test func removeRetiresAndAddingAgainReactivates() throws {
        _ = try registry.add([try load()])
        #expect(try registry.remove("demo.echo"))
        #expect(try !registry.remove("demo.echo"))
        #expect(try registry.list().isEmpty)
        #expect(try registry.list(includeRetired: true).first?.retiredAt != nil)
        do {
            _ = try registry.resolve("demo.echo")
            Issue.record("a retired tool resolved")
        } catch {
            #expect(error.code == .unknownTool && error.message.contains("retired"))
        }
        #expect(try registry.resolve("demo.echo", allowRetired: true).revision == 1)
        #expect(try registry.add([try load()]) == [.reactivated(name: "demo.echo", version: "1.0.0")])
        #expect(try registry.resolve("demo.echo").retiredAt == nil)
        #expect(throws: ToolsError.self) { try registry.remove("no.such") }
    }

    @Test func aPinMismatchIsRefusedNamingBothDigests() throws {
        let wrong = String(repeating: "ab", count: 32)
        do {
            _ = try load(Fixtures.manifest(sha256: wrong))
            Issue.record("a wrong pin was accepted")
        } catch let error as ToolsError {
            #expect(error.code == .digestMismatch)
            #expect(error.message.contains(wrong))
            #expect(error.message.contains(SHA256.hex(Array(Fixtures.script.utf8))))
            #expect(error.threats.contains("asi:04"))
        }
    }

    @Test func aMissingExecutableIsRefused() throws {
        let (dir, manifest) = try Fixtures.manifestDirectory()
        try FileManager.default.removeItem(at: dir.appendingPathComponent("echo.sh"))
        do {
            _ = try ManifestFile.load(manifest)
            Issue.record("a missing executable was accepted")
        } catch {
            #expect(error.code == .executableMissing)
            #expect(error.message.contains("echo.sh"))
        }
    }

    @Test func aMissingExecutableIsReportedWithTheOtherProblems() throws {
        let (dir, manifest) = try Fixtures.manifestDirectory(Fixtures.manifest(extra: "risk2: high"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("echo.sh"))
        do {
            _ = try ManifestFile.load(manifest)
            Issue.record("a bad manifest was accepted")
        } catch {
            #expect(error.code == .invalidManifest)
            #expect(error.problems.map(\.pointer) == ["/risk2", "/executable/path"])
            #expect(error.problems.last?.line == 6)
        }
    }

    @Test func pinWritesTheDigestIntoTheFileKeepingComments() throws {
        let text = Fixtures.manifest().replacingOccurrences(
            of: "  sha256: \(SHA256.hex(Array(Fixtures.script.utf8)))\n", with: ""
        )
        .replacingOccurrences(of: "  path: echo.sh", with: "  path: echo.sh   # the script")
        let (_, url) = try Fixtures.manifestDirectory("# header comment\n" + text)
        let pinned = try ManifestFile.pinned(url)
        #expect(try pinned.writePin())
        let written = try String(contentsOf: url, encoding: .utf8)
        #expect(written.hasPrefix("# header comment\n"))
        #expect(
            written.contains("  path: echo.sh   # the script\n  sha256: \(SHA256.hex(Array(Fixtures.script.utf8)))\n"))
        #expect(try ManifestFile.load(url).manifest.executable.sha256 == pinned.executableSHA256)
        // An existing (stale) pin is replaced in place.
        try Data(
            written.replacingOccurrences(of: pinned.executableSHA256, with: String(repeating: "0", count: 64)).utf8
        ).write(to: url)
        #expect(try ManifestFile.pinned(url).writePin())
        #expect(try String(contentsOf: url, encoding: .utf8) == written)
    }

    @Test func aDriftedStoredExecutableIsRefusedBeforeARun() throws {
        _ = try registry.add([try load()])
        let tool = try registry.resolve("demo.echo")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.objectURL.path)
        try Data("#!/bin/sh\ncurl evil\n".utf8).write(to: tool.objectURL)
        do {
            _ = try registry.verifiedExecutable(of: tool)
            Issue.record("a drifted executable was accepted")
        } catch {
            #expect(error.code == .digestMismatch)
            #expect(error.message.contains(tool.manifest.executable.sha256))
            #expect(error.message.contains(SHA256.hex(Array("#!/bin/sh\ncurl evil\n".utf8))))
            #expect(error.threats.contains("asi:04"))
        }
        // Adding the unchanged manifest again is a no-op for the registry, but it repairs the object.
        _ = try registry.add([try load()])
        #expect(try registry.verifiedExecutable(of: tool) == tool.objectURL)
    }

    @Test func datasetOptionsAreNameEqualsPath() throws {
        let dir = try Fixtures.directory()
        #expect(throws: ToolsError.self) { try DatasetOption.parse("logs", base: dir) }
        #expect(throws: ToolsError.self) { try DatasetOption.parse("bad name=/srv", base: dir) }
        #expect(try DatasetOption.parse("logs=data/logs", base: dir).1.path == dir.path + "/data/logs")
    }
}
