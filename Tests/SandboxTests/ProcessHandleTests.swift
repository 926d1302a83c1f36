import AirlockTestSupport
import Foundation
import Testing

@testable import Sandbox

#if canImport(Glibc)
    import Glibc
#endif

@Suite("ProcessHandle: a process by pidfd")
struct ProcessHandleTests {
    @Test("a running process is seen, its command line read, a signal ends it and the wait sees the exit")
    func signalAndWait() async throws {
        let marker = "\(Int.random(in: 100_000...999_999)).5"
        // SIGKILL: a child of this test process may inherit a mask that blocks SIGTERM (the
        // thread that spawns it can be a worker with signals blocked).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = [marker]
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let handle = try #require(ProcessHandle(pid: process.processIdentifier))
        #expect(handle.isRunning)
        // The child may not have reached exec yet: its command line is the parent's image's, or
        // empty, until it does.
        try await AgentFixture.waitUntil("the child has exec'd sleep") { handle.commandLine?.first == "/bin/sleep" }
        #expect(handle.commandLine == ["/bin/sleep", marker])
        #expect(!handle.waitForExit(seconds: 0.05))
        #expect(handle.signal(SIGKILL))
        #expect(handle.waitForExit(seconds: 60))
        #expect(!handle.isRunning)
        #expect(handle.commandLine == nil)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
        #expect(ProcessHandle(pid: 0) == nil && ProcessHandle(pid: -1) == nil)
    }
}
