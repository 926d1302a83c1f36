import Foundation
import ModelRuntime
import Testing

@Suite("The model server's state: whose pid it names")
struct ModelServerStateTests {
    func state(pid: Int32) -> ModelServerState {
        ModelServerState(
            status: "ready", supervisorPID: pid, socket: "/x.sock", model: "m", modelSHA256: "", serverSHA256: "",
            startedAt: "2026-12-07T00:00:00Z")
    }

    @Test("a pid that names another program (a reused pid) is not the supervisor; one that is, is")
    func supervisorByCommandLine() async throws {
        // This test process is alive but is no supervisor: kill(pid, 0) alone said it was.
        #expect(!state(pid: getpid()).supervisorAlive)
        // SIGKILL: a child of this test process may inherit a mask that blocks SIGTERM (the
        // thread that spawns it can be a worker with signals blocked).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        // It lives far longer than the wait below may take: on a loaded machine this task's next
        // turn can come tens of seconds later (CI saw a 30 s sleeper gone before the second look).
        // The test kills it.
        // One process (no shell whose child would outlive the kill), the flag on its command line.
        process.arguments = ["-c", "import time; time.sleep(600)", ModelBackground.supervisorFlag]
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let alive = state(pid: process.processIdentifier)
        // Until the child has exec'd, its command line is not yet the supervisor's: wait for it.
        let deadline = Date().addingTimeInterval(120)
        while !alive.supervisorAlive, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(alive.supervisorAlive)
        let handle = try #require(alive.supervisor)
        #expect(handle.signal(SIGKILL) && handle.waitForExit(seconds: 60))
        process.waitUntilExit()
        #expect(!alive.supervisorAlive)
    }
}
