import AirlockCore
import CSandbox

#if canImport(Glibc)
    import Glibc
#endif

/// The socket calls of a corridor's outside half (``CorridorForwarder``), each wrapped once:
/// EINTR is retried here, and failures come back as errno values for the connection's record.
extension Posix {
    /// A numeric IPv4 or IPv6 address and a port as a socket address; `nil` when `address` is
    /// not numeric. The corresponding C function is `inet_pton`.
    static func socketAddress(_ address: String, port: UInt16) -> (family: Int32, bytes: [UInt8])? {
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, address, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            return (AF_INET, withUnsafeBytes(of: v4) { Array($0) })
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, address, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            return (AF_INET6, withUnsafeBytes(of: v6) { Array($0) })
        }
        return nil
    }

    /// Connects a new close-on-exec TCP socket to `address`, waiting at most `timeoutSeconds`
    /// (`SO_SNDTIMEO`, which bounds a blocking connect). Returns the socket or the errno.
    /// The corresponding C functions are `socket`, `setsockopt` and `connect`.
    static func connectTCP(_ address: (family: Int32, bytes: [UInt8]), timeoutSeconds: Double) -> Result<Int32, Errno> {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(Errno(errno)) }
        var timeout = timeval(
            tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds - Double(Int(timeoutSeconds))) * 1e6))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var rc: Int32
        repeat {
            rc = address.bytes.withUnsafeBytes { raw in
                connect(fd, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            }
        } while rc < 0 && errno == EINTR
        guard rc == 0 else {
            // A connect cut by the timeout answers EINPROGRESS: name it for what it is.
            let code = errno == EINPROGRESS ? ETIMEDOUT : errno
            close(fd)
            return .failure(Errno(code))
        }
        // Back to blocking writes without a deadline: a slow reader only slows its own connection.
        var none = timeval()
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, socklen_t(MemoryLayout<timeval>.size))
        return .success(fd)
    }

    /// Waits until `listener` has a connection or `stop` becomes readable; returns the accepted
    /// close-on-exec socket, or `nil` when asked to stop (or the listener failed).
    /// The corresponding C functions are `poll` and `accept4`.
    static func accept(_ listener: Int32, unless stop: Int32) -> Int32? {
        while true {
            var fds = [
                pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stop, events: Int16(POLLIN), revents: 0),
            ]
            let n = poll(&fds, 2, -1)
            if n < 0 && errno == EINTR { continue }
            if n < 0 || fds[1].revents != 0 { return nil }
            guard fds[0].revents & Int16(POLLIN) != 0 else { return nil }
            let fd = al_accept_cloexec(listener)
            if fd >= 0 { return fd }
            if errno == EINTR || errno == EAGAIN || errno == ECONNABORTED { continue }
            return nil
        }
    }

    /// Reads what is there (at most `buffer.count` bytes); 0 at end of stream, or -errno.
    /// The corresponding C function is `read`.
    static func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n < 0 && errno == EINTR { continue }
            return n < 0 ? -Int(errno) : n
        }
    }

    /// Sends all of `bytes` (no SIGPIPE); `false` when the peer is gone.
    /// The corresponding C function is `send`.
    static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = send(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// Shuts down one or both directions of a socket, ignoring errors (it may be gone already).
    /// The corresponding C function is `shutdown`.
    static func shutdown(_ fd: Int32, reading: Bool, writing: Bool) {
        let how = reading && writing ? Int32(SHUT_RDWR) : reading ? Int32(SHUT_RD) : Int32(SHUT_WR)
        _ = Glibc.shutdown(fd, how)
    }
}

/// An errno value, named for messages.
struct Errno: Error, Sendable, Hashable {
    let code: Int32
    init(_ code: Int32) { self.code = code }
    var description: String { Posix.describe(code) }
}
