import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A one-shot signal that stops an exchange running on another thread: fired from a task's
/// cancellation handler, it makes the ``Socket`` waiting for the model (or a connect backoff)
/// give up at once with `ECANCELED`, so a cancelled run does not wait for the model's answer.
///
/// A pipe: firing writes one byte, and every wait on the read end sees it from then on.
final class SocketInterrupt: Sendable {
    /// Polled beside the socket.
    let readFD: Int32
    private let writeFD: Int32

    /// Creates an interrupt that has not fired.
    /// The corresponding C functions are `pipe` and `fcntl` (Glibc's Swift module has no
    /// `pipe2`): both ends close on exec and never block.
    /// - Throws: ``Socket/Failure`` when no pipe can be made (descriptors exhausted).
    init() throws(Socket.Failure) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw Socket.Failure(stage: "pipe", errno: errno) }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// Fires the interrupt (safe from any thread, any number of times).
    /// The corresponding C function is `write`.
    func fire() {
        _ = write(writeFD, "x", 1)
    }

    /// Whether the interrupt has fired.
    var hasFired: Bool {
        ((try? Socket.poll([(readFD, Int16(POLLIN))], until: Date(), stage: "interrupt")) ?? nil) != nil
    }

    /// Sleeps `seconds`, or less when the interrupt fires.
    /// - Returns: whether it fired.
    func sleep(seconds: Double) -> Bool {
        ((try? Socket.poll([(readFD, Int16(POLLIN))], until: Date(timeIntervalSinceNow: seconds), stage: "backoff"))
            ?? nil) != nil
    }
}
