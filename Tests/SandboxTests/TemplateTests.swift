import Foundation
import Testing

@testable import Sandbox

/// Sandboxes cloned from a template root (root only) against sandboxes that build their root
/// themselves: the same sandbox either way, and one run's mount points never in another's root.
@Suite(
    .enabled(if: Box.available, "namespaces are not available on this host"),
    .enabled(if: geteuid() == 0 && SandboxTemplate.unavailable == nil, "templates need root"))
struct TemplateTests {
    static let withTemplate = Sandbox()
    static let withoutTemplate = Sandbox(configuration: Sandbox.Configuration(templates: false))

    /// What a program can learn about its filesystem, in a form that must not depend on the way
    /// the root was built. (The processes are counted from a file: in a pipeline, whether `grep`
    /// already exists when `ls` reads `/proc` is a race.)
    static let survey = """
        ls -A / /etc /dev /data
        ls /proc > /tmp/processes && grep -c '^[0-9]' /tmp/processes
        cat /data/in/f
        cat /etc/hostname /etc/passwd
        touch /newfile 2>/dev/null && echo root-writable || echo root-read-only
        touch /etc/x 2>/dev/null && echo etc-writable || echo etc-read-only
        echo out > /data/out/w && cat /data/out/w
        echo tmp > /tmp/t && cat /tmp/t
        grep -c ' /proc ' /proc/self/mountinfo
        """

    func survey(_ sandbox: Sandbox, input: URL, output: URL) async throws -> ExecutionRecord {
        let spec = SandboxSpec(
            program: "/bin/sh", arguments: ["-c", Self.survey], environment: ["PATH": SandboxSpec.defaultPath],
            mounts: [
                BindMount(source: input.path, target: "/data/in", writable: false),
                BindMount(source: output.path, target: "/data/out", writable: true),
            ])
        return try await sandbox.run(spec)
    }

    @Test func bothWaysGiveTheSameSandbox() async throws {
        let input = try Box.writableDirectory()
        let output = try Box.writableDirectory()
        defer {
            try? FileManager.default.removeItem(at: input)
            try? FileManager.default.removeItem(at: output)
        }
        _ = FileManager.default.createFile(atPath: input.path + "/f", contents: Data("inside\n".utf8))
        let templated = try await survey(Self.withTemplate, input: input, output: output)
        let whole = try await survey(Self.withoutTemplate, input: input, output: output)
        #expect(templated.termination == .exited(0), "\(templated.stderr.text)")
        #expect(whole.termination == .exited(0), "\(whole.stderr.text)")
        let templatedAll = templated.stdout.text.split(separator: "\n", omittingEmptySubsequences: false)
        let wholeAll = whole.stdout.text.split(separator: "\n", omittingEmptySubsequences: false)
        // The one difference: the host's /proc lies below the sandbox's (covered), and says so.
        #expect(Array(templatedAll.suffix(2)) == ["2", ""])
        #expect(Array(wholeAll.suffix(2)) == ["1", ""])
        let templatedLines = Array(templatedAll.dropLast(2))
        #expect(templatedLines == Array(wholeAll.dropLast(2)))
        #expect(templatedLines.contains("root-read-only") && templatedLines.contains("etc-read-only"))
        #expect(templatedLines.contains("inside") && templatedLines.contains("out"))
        #expect(templatedLines.first == "/:")

        let covered = templated.confinement.mounts.filter { $0.options == "covered" }
        #expect(covered.map(\.target) == ["/proc"])
        #expect(!whole.confinement.mounts.contains { $0.options == "covered" })
        #expect(
            templated.confinement.mounts.filter { $0.options != "covered" } == whole.confinement.mounts)
    }

    @Test func aRunNeverSeesAnotherRunsMountPoints() async throws {
        let dir = try Box.writableDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let alpha = Task {
            try await Box.sh(
                "sleep 0.3; ls /data", mounts: [BindMount(source: dir.path, target: "/data/alpha", writable: false)])
        }
        let beta = try await Box.sh(
            "ls /data", mounts: [BindMount(source: dir.path, target: "/data/beta", writable: false)])
        let none = try await Box.sh("ls /data 2>&1 || echo no-data")
        #expect(try await alpha.value.stdout.text == "alpha\n")
        #expect(beta.stdout.text == "beta\n")
        #expect(none.stdout.text.hasSuffix("no-data\n"))
        // The same mount points again: the template made for them is reused, and still holds only them.
        let again = try await Box.sh(
            "ls /data", mounts: [BindMount(source: dir.path, target: "/data/beta", writable: false)])
        #expect(again.stdout.text == "beta\n")
    }

    @Test func nestedAndFileBindsLandInOrder() async throws {
        let outer = try Box.writableDirectory()
        let inner = try Box.writableDirectory()
        defer {
            try? FileManager.default.removeItem(at: outer)
            try? FileManager.default.removeItem(at: inner)
        }
        try FileManager.default.createDirectory(atPath: outer.path + "/sub", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: outer.path + "/o", contents: Data("outer\n".utf8))
        _ = FileManager.default.createFile(atPath: inner.path + "/i", contents: Data("inner\n".utf8))
        let record = try await Box.sh(
            "cat /srv/o /srv/sub/i /opt/one/file; echo x > /srv/sub/w && echo inner-writable; echo x > /srv/w 2>/dev/null || echo outer-read-only",
            mounts: [
                BindMount(source: inner.path, target: "/srv/sub", writable: true),
                BindMount(source: outer.path, target: "/srv", writable: false),
                BindMount(source: outer.path + "/o", target: "/opt/one/file", writable: false),
            ])
        #expect(record.stdout.text == "outer\ninner\nouter\ninner-writable\nouter-read-only\n", "\(record.stderr.text)")
    }

    @Test func aRunWhoseOwnMountPointCannotBeMadeFailsPreciselyAndTemplatesStay() async throws {
        do {
            _ = try await Box.sh(
                "true", mounts: [BindMount(source: "/usr/bin", target: "/etc/passwd/x", writable: false)])
            Issue.record("a mount point under a file was made")
        } catch let error as SandboxError {
            #expect(error.code == .setupFailed)
            #expect(error.message == "mkdir(/etc/passwd/x): Not a directory (ENOTDIR)", "\(error.message)")
        }
        #expect(SandboxTemplate.unavailable == nil)
        let record = try await Box.sh("grep -c ' /proc ' /proc/self/mountinfo")
        #expect(record.stdout.text == "2\n")
    }
}
