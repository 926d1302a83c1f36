import Foundation
import Synchronization

/// The threads that start and supervise sandboxes for ``Sandbox/run(_:)``.
///
/// Supervision blocks (poll on the child's pipes, pidfd and seccomp listener), so it never runs
/// on Swift's cooperative pool. The threads are kept rather than made per run: a sandbox's
/// parent-death signal is tied to the thread that cloned it, and a kept thread only ever ends
/// with the process.
final class SpawnerPool: Sendable {
    private final class Worker: @unchecked Sendable {
        let wake = DispatchSemaphore(value: 0)
        // Written by the submitter before `wake.signal()`, read by the worker after `wake.wait()`.
        var job: (@Sendable () -> Void)?
    }

    private struct State {
        var idle: [Worker] = []
        var threadCount = 0
        var waiting: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())
    private let maximumThreads: Int

    init(maximumThreads: Int) {
        self.maximumThreads = maximumThreads
    }

    /// Runs `job` on a spawner thread; queued when `maximumThreads` are all busy.
    func submit(_ job: @escaping @Sendable () -> Void) {
        enum Action {
            case use(Worker)
            case start
            case queued
        }
        let action: Action = state.withLock { state in
            if let worker = state.idle.popLast() { return .use(worker) }
            if state.threadCount < maximumThreads {
                state.threadCount += 1
                return .start
            }
            state.waiting.append(job)
            return .queued
        }
        switch action {
        case .use(let worker):
            worker.job = job
            worker.wake.signal()
        case .start:
            let worker = Worker()
            worker.job = job
            let thread = Thread { [self] in self.serve(worker) }
            thread.name = "airlock-spawner"
            thread.stackSize = 1 << 20
            thread.start()
            worker.wake.signal()
        case .queued:
            break
        }
    }

    private func serve(_ worker: Worker) {
        while true {
            worker.wake.wait()
            var next = worker.job
            worker.job = nil
            while let job = next {
                job()
                next = state.withLock { state in
                    if state.waiting.isEmpty {
                        state.idle.append(worker)
                        return nil
                    }
                    return state.waiting.removeFirst()
                }
            }
        }
    }
}
