import AirlockCore
import CSandbox
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension Sandbox {
    /// Starts `spec` as a long-lived confined process whose standard input and output stay
    /// connected to the caller (an MCP server, say), with the same confinement as ``run(_:)``:
    /// one spawn path, one supervisor.
    ///
    /// The spec's `stdin` is ignored: the process's stdin is a pipe written with
    /// ``SandboxProcess/write(_:)``, its stdout a pipe read through ``SandboxProcess/output``.
    /// Standard error is captured as in a run, up to `limits.outputBytesPerStream`, and is in
    /// the record ``SandboxProcess/wait()`` returns. `limits.wallTimeSeconds` bounds the
    /// process's whole life. Refused syscalls are reported while it runs
    /// (``SandboxProcess/deniedSyscalls()``).
    /// - Returns: the running process, once its child has reached `execve`.
    /// - Throws: ``SandboxError`` when the sandbox could not be set up (nothing runs then).
    public func start(_ spec: SandboxSpec) async throws(SandboxError) -> SandboxProcess {
        let cancel = try Posix.pipe()
        let channel = SessionChannel(cancel: cancel)
        let configuration = self.configuration
        let runtime = self.runtime
        let started: Result<SandboxProcess, SandboxError> = await withCheckedContinuation { continuation in
            channel.onStart(continuation)
            // Started and supervised on a spawner thread, which the process's life then holds
            // (its parent-death signal is tied to the thread that cloned it).
            runtime.spawners.submit {
                let result = Result { () throws(SandboxError) -> ExecutionRecord in
                    var run = SandboxRun(
                        spec: spec, configuration: configuration, runtime: runtime, cancelFD: cancel.read)
                    run.session = channel
                    return try run.execute()
                }
                channel.finished(result)
            }
        }
        return try started.get()
    }
}

/// A confined process that outlives the call that started it (``Sandbox/start(_:)``): its
/// stdin and stdout are the caller's, its end is a record.
///
/// Killing it (``kill()``), its supervisor's wall limit or releasing the last reference to it
/// ends the sandbox, and with it every process of its PID namespace; its supervisor reaps it
/// whether or not anyone waits.
public final class SandboxProcess: Sendable {
    /// The argv the process was started with, as a run's record has it.
    public let argv: [String]
    /// How it is confined, as a run's record has it.
    public let confinement: ConfinementEvidence
    /// Its standard output, in chunks as they arrive; finishes at end of file (the process gone
    /// or its stdout closed). Read it as it comes: what is not read yet is held in memory (the
    /// MCP transport reads it continuously and bounds each message).
    public let output: AsyncStream<[UInt8]>

    private let channel: SessionChannel
    private let writer: PipeWriter

    init(argv: [String], confinement: ConfinementEvidence, input: Int32, output: Int32, channel: SessionChannel) {
        self.argv = argv
        self.confinement = confinement
        self.channel = channel
        self.writer = PipeWriter(fd: input)
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        self.output = stream
        PipeReader.start(fd: output, into: continuation)
    }

    /// Writes `bytes` to the process's standard input, all of them.
    /// - Throws: ``SandboxError`` (`supervision-failed`) when the process no longer reads it
    ///   (`EPIPE`: it ended or closed its stdin) or its stdin was closed here.
    public func write(_ bytes: [UInt8]) async throws(SandboxError) {
        let outcome: Int32 = await withCheckedContinuation { continuation in
            writer.enqueue(bytes) { continuation.resume(returning: $0) }
        }
        guard outcome == 0 else {
            throw SandboxError(
                .supervisionFailed, "write(stdin of \(argv.first ?? "process")): \(Posix.describe(outcome))",
                errno: outcome)
        }
    }

    /// Closes the process's standard input (it reads end of file); later writes fail.
    public func closeInput() {
        writer.close()
    }

    /// Every syscall refused so far, one entry per syscall with its count (the first call's
    /// arguments in `detail`), in the order they were first refused.
    public func deniedSyscalls() -> [DeniedSyscall] {
        channel.denied.withLock { $0 }
    }

    /// Kills the sandbox (idempotent); ``wait()`` then returns a record that says `cancelled`.
    public func kill() {
        channel.kill()
    }

    /// Waits for the process to end and returns its record (standard output is not in it: it was
    /// the caller's).
    /// - Throws: ``SandboxError`` when supervising it failed.
    public func wait() async throws(SandboxError) -> ExecutionRecord {
        let result: Result<ExecutionRecord, SandboxError> = await withCheckedContinuation { continuation in
            channel.onFinish(continuation)
        }
        return try result.get()
    }

    /// The record of one request the process answered (an MCP server's `tools/call`): its argv
    /// and confinement, the request's own outcome, output, seconds and refusals.
    /// - Parameters:
    ///   - request: what it was asked, for the record (`tools/call NAME`).
    ///   - exitCode: 0 for an answer, non-zero for an error answer.
    ///   - stdout: the answer as the caller reads it; `stderr`: the error's text, if any.
    ///   - cap: the most bytes kept of each stream (the rest counted).
    ///   - seconds: how long the request took.
    ///   - deniedSyscalls: the syscalls refused while it ran.
    public func record(
        ofRequest request: String, exitCode: Int32, stdout: [UInt8], stderr: [UInt8], cap: Int, seconds: Double,
        deniedSyscalls: [DeniedSyscall]
    ) -> ExecutionRecord {
        ExecutionRecord(
            argv: argv, termination: .exited(exitCode), timedOut: false, cancelled: nil, oomKilled: false,
            wallSeconds: seconds, userCPUSeconds: 0, systemCPUSeconds: 0, peakMemoryBytes: 0,
            stdout: CapturedOutput(bytes: Array(stdout.prefix(cap)), totalBytes: UInt64(stdout.count)),
            stderr: CapturedOutput(bytes: Array(stderr.prefix(cap)), totalBytes: UInt64(stderr.count)),
            deniedSyscalls: deniedSyscalls, confinement: confinement, network: nil, request: request)
    }

    /// A process nobody holds any more is ended: its stdin closed, its sandbox killed.
    deinit {
        writer.close()
        channel.kill()
    }
}

/// What a session's supervising thread and its ``SandboxProcess`` share: the start and the end
/// handed over once each, the refusals as they happen, the kill switch.
final class SessionChannel: Sendable {
    private struct State {
        var startWaiter: CheckedContinuation<Result<SandboxProcess, SandboxError>, Never>?
        var end: Result<ExecutionRecord, SandboxError>?
        var endWaiters: [CheckedContinuation<Result<ExecutionRecord, SandboxError>, Never>] = []
        var cancelOpen = true
    }

    private let state = Mutex(State())
    private let cancel: (read: Int32, write: Int32)
    let denied = Mutex<[DeniedSyscall]>([])

    init(cancel: (read: Int32, write: Int32)) {
        self.cancel = cancel
    }

    func onStart(_ continuation: CheckedContinuation<Result<SandboxProcess, SandboxError>, Never>) {
        state.withLock { $0.startWaiter = continuation }
    }

    /// Called on the supervising thread once the child runs, before supervision.
    func started(input: Int32, output: Int32, argv: [String], confinement: ConfinementEvidence) {
        let process = SandboxProcess(
            argv: argv, confinement: confinement, input: input, output: output, channel: self)
        let waiter = state.withLock { state in
            defer { state.startWaiter = nil }
            return state.startWaiter
        }
        waiter?.resume(returning: .success(process))
    }

    /// Called on the supervising thread when the run is over (or could not start).
    func finished(_ result: Result<ExecutionRecord, SandboxError>) {
        let (startWaiter, endWaiters) = state.withLock { state in
            state.end = result
            defer {
                state.startWaiter = nil
                state.endWaiters = []
            }
            return (state.startWaiter, state.endWaiters)
        }
        if let startWaiter {
            // It never started: the start is the failure (a record without a start cannot happen).
            switch result {
            case .failure(let error): startWaiter.resume(returning: .failure(error))
            case .success:
                startWaiter.resume(
                    returning: .failure(SandboxError(.supervisionFailed, "the process ended before it was handed over"))
                )
            }
        }
        for waiter in endWaiters { waiter.resume(returning: result) }
        closeCancel()
    }

    func onFinish(_ continuation: CheckedContinuation<Result<ExecutionRecord, SandboxError>, Never>) {
        let end = state.withLock { state in
            if state.end == nil { state.endWaiters.append(continuation) }
            return state.end
        }
        if let end { continuation.resume(returning: end) }
    }

    func kill() {
        state.withLock { state in
            guard state.cancelOpen, state.end == nil else { return }
            _ = Glibc.write(cancel.write, "x", 1)
        }
    }

    private func closeCancel() {
        state.withLock { state in
            guard state.cancelOpen else { return }
            state.cancelOpen = false
            Posix.close(cancel.read)
            Posix.close(cancel.write)
        }
    }

    /// One refusal, as the supervisor counts it (before the process sees EPERM).
    func record(number: Int32, args: (UInt64, UInt64)) {
        denied.withLock { list in
            if let index = list.firstIndex(where: { $0.number == number }) {
                list[index].count += 1
            } else {
                let name = SeccompProfile.name(of: number)
                list.append(
                    DeniedSyscall(
                        name: name, number: number, count: 1, detail: SandboxRun.detail(name: name, args: args)))
            }
        }
    }

    /// The supervisor's `on_denied`: the context is the channel, kept alive by the supervising
    /// run for as long as it supervises.
    static let deniedCallback: @convention(c) (UnsafeMutableRawPointer?, Int32, UInt64, UInt64) -> Void = {
        context, number, arg0, arg1 in
        guard let context else { return }
        Unmanaged<SessionChannel>.fromOpaque(context).takeUnretainedValue().record(number: number, args: (arg0, arg1))
    }
}

/// Writes a process's stdin on a thread of its own, in order, so that a process that stops
/// reading blocks nobody else, and with SIGPIPE blocked there, so that one that is gone fails
/// the write (`EPIPE`) instead of killing Airlock.
final class PipeWriter: Sendable {
    private struct State {
        var fd: Int32
        var queue: [(bytes: [UInt8], done: @Sendable (Int32) -> Void)] = []
        var closing = false
    }

    private let state: Mutex<State>
    private let wake = DispatchSemaphore(value: 0)

    init(fd: Int32) {
        state = Mutex(State(fd: fd))
        let thread = Thread { [self] in self.serve() }
        thread.name = "airlock-stdin"
        thread.stackSize = 256 << 10
        thread.start()
    }

    func enqueue(_ bytes: [UInt8], done: @escaping @Sendable (Int32) -> Void) {
        let accepted = state.withLock { state in
            guard !state.closing else { return false }
            state.queue.append((bytes, done))
            return true
        }
        if accepted { wake.signal() } else { done(EBADF) }
    }

    /// Closes stdin once what is queued is written.
    func close() {
        let first = state.withLock { state in
            defer { state.closing = true }
            return !state.closing
        }
        if first { wake.signal() }
    }

    private func serve() {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        var failed: Int32 = 0
        while true {
            wake.wait()
            while let item = next() {
                let (job, fd) = item
                if failed == 0 { failed = Self.writeAll(job.bytes, to: fd) }
                job.done(failed)
            }
            let done = state.withLock { state in
                guard state.closing && state.queue.isEmpty else { return false }
                Posix.close(state.fd)
                state.fd = -1
                return true
            }
            if done { return }
        }
    }

    private func next() -> ((bytes: [UInt8], done: @Sendable (Int32) -> Void), Int32)? {
        state.withLock { state in state.queue.isEmpty ? nil : (state.queue.removeFirst(), state.fd) }
    }

    /// 0, or the errno that stopped the write.
    private static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Int32 {
        bytes.withUnsafeBytes { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return 0 }
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, base + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { return errno }
                if n == 0 { return EPIPE }
                offset += n
            }
            return 0
        }
    }
}

/// Reads a process's stdout on a thread of its own until end of file.
enum PipeReader {
    /// The most bytes read at once: 64 KiB.
    static let chunkBytes = 64 << 10

    static func start(fd: Int32, into continuation: AsyncStream<[UInt8]>.Continuation) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: chunkBytes)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                continuation.yield(Array(buffer[0..<n]))
            }
            Posix.close(fd)
            continuation.finish()
        }
        thread.name = "airlock-stdout"
        thread.stackSize = 256 << 10
        thread.start()
    }
}
