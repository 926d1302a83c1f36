import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads the analyst's answer from standard input one line at a time, in a way a cancelled task
/// can stop: the descriptor is polled in short slices and read one byte at a time up to the line's
/// end, so that nothing of a later line is taken, and nothing is left blocked in `read` when the
/// request was answered elsewhere. EINTR is retried here, in one place.
enum TerminalInput {
    /// How long one poll waits before the task's cancellation is checked again, in milliseconds.
    static let pollSliceMilliseconds: Int32 = 100
    /// The longest line kept, in bytes; the rest of a longer line is read and dropped.
    static let maxLineBytes = 4096

    /// One read's outcome.
    enum Line: Equatable {
        /// A line, without its newline.
        case text(String)
        /// End of input (or a read error).
        case end
        /// The task was cancelled first.
        case cancelled
    }

    /// The next line of standard input, or `.end`, or `.cancelled` once the task is cancelled.
    /// The corresponding C functions are `poll` and `read`.
    static func nextLine() async -> Line {
        var bytes: [UInt8] = []
        while true {
            if Task.isCancelled { return .cancelled }
            var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, pollSliceMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                return .end
            }
            if ready == 0 {
                await Task.yield()
                continue
            }
            var byte: UInt8 = 0
            let count = read(STDIN_FILENO, &byte, 1)
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .end
            }
            if count == 0 { return bytes.isEmpty ? .end : .text(String(decoding: bytes, as: UTF8.self)) }
            if byte == UInt8(ascii: "\n") { return .text(String(decoding: bytes, as: UTF8.self)) }
            if bytes.count < maxLineBytes { bytes.append(byte) }
        }
    }
}
