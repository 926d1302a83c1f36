import Foundation
import Testing

@testable import Sandbox

/// A long-lived confined process (`Sandbox.start`): the same confinement as a run, its stdin and
/// stdout the caller's until it is killed or ends.
@Suite(.enabled(if: Box.available, "user, mount, pid and network namespaces are not available on this host"))
struct SandboxProcessTests {
    /// A line-echoing Python program: each line read is answered, a `net` line tries a TCP connect.
    static let echo = """
        import socket, sys
        for line in sys.stdin:
            line = line.strip()
            if line == "net":
                try:
                    socket.create_connection(("127.0.0.1", 22), timeout=2)
                    print("REACHED", flush=True)
                except OSError as e:
                    print("refused", e.errno, flush=True)
            else:
                print("echo", line, flush=True)
        print("stdin closed", file=sys.stderr)
        """

    static func start(_ program: String = echo, wallTime: Double = 60) async throws -> SandboxProcess {
        try await Sandbox().start(
            SandboxSpec(
                program: "/usr/bin/python3", arguments: ["-u", "-c", program],
                limits: SandboxLimits(wallTimeSeconds: wallTime)))
    }

    /// Reads from `stream` until `count` lines have arrived (or it ends).
    static func lines(_ count: Int, from iterator: inout AsyncStream<[UInt8]>.Iterator) async -> [String] {
        var text = ""
        while text.filter({ $0 == "\n" }).count < count, let chunk = await iterator.next() {
            text += String(decoding: chunk, as: UTF8.self)
        }
        return text.split(separator: "\n").map(String.init)
    }

    @Test func answersEachLineWhileItRunsThenEndsAtEndOfInput() async throws {
        let process = try await Self.start()
        var output = process.output.makeAsyncIterator()
        try await process.write(Array("one\n".utf8))
        #expect(await Self.lines(1, from: &output) == ["echo one"])
        try await process.write(Array("two\n".utf8))
        #expect(await Self.lines(1, from: &output) == ["echo two"])
        process.closeInput()
        let record = try await process.wait()
        #expect(record.termination == .exited(0))
        #expect(record.stderr.text == "stdin closed\n")
        #expect(record.argv.first == "/usr/bin/python3")
        // Confined like a run: the same evidence.
        #expect(record.confinement.namespaces.contains("net"))
        #expect(record.confinement == process.confinement)
        #expect(await output.next() == nil)
    }

    @Test func aNetworkAttemptFailsWithEPERMAndIsReportedWhileItRuns() async throws {
        let process = try await Self.start()
        var output = process.output.makeAsyncIterator()
        #expect(process.deniedSyscalls().isEmpty)
        try await process.write(Array("net\n".utf8))
        #expect(await Self.lines(1, from: &output) == ["refused 1"])
        // Counted before the refusal was answered: known as soon as the program reacted to it.
        let socket = try #require(process.deniedSyscalls().first { $0.name == "socket" })
        #expect(socket.count == 1)
        #expect(socket.detail == "family=AF_INET type=SOCK_STREAM")
        process.kill()
        let record = try await process.wait()
        #expect(record.cancelled == true)
        #expect(record.termination == .signaled(SIGKILL))
        #expect(record.deniedSyscalls.map(\.name) == ["socket"])
    }

    @Test func killEndsEveryProcessOfTheSandboxAndLaterWritesFail() async throws {
        let marker = "airlock-session-\(UUID().uuidString.prefix(8))"
        let process = try await Self.start(
            "import subprocess, sys, time\nsubprocess.Popen(['sleep', '300', '\(marker)'])\nprint('ready', flush=True)\ntime.sleep(300)\n"
        )
        var output = process.output.makeAsyncIterator()
        #expect(await Self.lines(1, from: &output) == ["ready"])
        #expect(!Box.hostProcesses(containing: marker).isEmpty)
        process.kill()
        _ = try await process.wait()
        #expect(Box.hostProcesses(containing: marker).isEmpty)
        await #expect(throws: SandboxError.self) { try await process.write(Array("late\n".utf8)) }
    }

    @Test func theWallLimitBoundsTheProcessLife() async throws {
        let process = try await Self.start("import time\ntime.sleep(300)\n", wallTime: 0.5)
        let record = try await process.wait()
        #expect(record.timedOut)
    }

    @Test func aProcessThatCannotStartIsAnErrorNamingTheStage() async throws {
        await #expect {
            _ = try await Sandbox().start(SandboxSpec(program: "/nonexistent/server"))
        } throws: { error in
            (error as? SandboxError)?.code == .execFailed
                && (error as? SandboxError)?.message.contains("/nonexistent/server") == true
        }
    }
}
