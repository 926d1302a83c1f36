import AirlockCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A connected stream socket (unix-domain or TCP) with deadline-bounded reads and writes.
///
/// The only Glibc use in Model (with ``SocketInterrupt``'s pipe): `socket`, `connect`, `send`,
/// `recv`, `poll`, `close`. EINTR is retried here, in one place. Not shared between threads; one
/// request at a time. A socket made with an interrupt stops waiting when it fires (`ECANCELED`).
final class Socket {
    private let fd: Int32
    private let interrupt: SocketInterrupt?

    private init(fd: Int32, interrupt: SocketInterrupt?) {
        self.fd = fd
        self.interrupt = interrupt
    }

    deinit { close(fd) }

    /// Why a socket operation failed: the stage and errno.
    struct Failure: Error {
        var stage: String
        var errno: Int32
        var text: String { "\(stage): \(Posix.describe(errno))" }
        /// Whether nothing listens yet (the server may be starting): ECONNREFUSED or ENOENT.
        var isNotListening: Bool { errno == ECONNREFUSED || errno == ENOENT }
        /// Whether the deadline passed.
        var isTimeout: Bool { errno == ETIMEDOUT }
        /// Whether the socket's interrupt fired (the request was cancelled).
        var isCancelled: Bool { errno == ECANCELED }
        /// The failure for an endpoint that is not a socket at all.
        static func notASocket(_ endpoint: String) -> Failure { Failure(stage: "connect(\(endpoint))", errno: EINVAL) }
    }

    /// Connects to a unix-domain socket at `path`.
    /// The corresponding C functions are `socket` and `connect`.
    static func connect(unixPath path: String, interrupt: SocketInterrupt? = nil) throws(Failure) -> Socket {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw Failure(stage: "connect(\(path))", errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(stage: "socket(AF_UNIX)", errno: errno) }
        let sock = Socket(fd: fd, interrupt: interrupt)
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else { throw Failure(stage: "connect(unix:\(path))", errno: errno) }
        return sock
    }

    /// Connects to `host:port` over TCP (numeric addresses or names the resolver knows).
    /// The corresponding C functions are `getaddrinfo`, `socket` and `connect`.
    static func connect(host: String, port: UInt16, interrupt: SocketInterrupt? = nil) throws(Failure) -> Socket {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw Failure(stage: "getaddrinfo(\(host))", errno: status == EAI_SYSTEM ? errno : EHOSTUNREACH)
        }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd >= 0 {
                let sock = Socket(fd: fd, interrupt: interrupt)
                if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return sock }
                lastError = errno
            } else {
                lastError = errno
            }
            entry = info.pointee.ai_next
        }
        throw Failure(stage: "connect(\(host):\(port))", errno: lastError)
    }

    /// Waits until one of `descriptors` has one of its events, or `deadline` passes: the one
    /// `poll` of Model, EINTR retried here.
    /// The corresponding C function is `poll`.
    /// - Returns: each descriptor's returned events, or `nil` when the deadline passed first.
    static func poll(_ descriptors: [(fd: Int32, events: Int16)], until deadline: Date, stage: String) throws(Failure)
        -> [Int16]?
    {
        var fds = descriptors.map { pollfd(fd: $0.fd, events: $0.events, revents: 0) }
        while true {
            let remaining = max(deadline.timeIntervalSinceNow, 0)
            let ready = Glibc.poll(
                &fds, nfds_t(fds.count), Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up)))
            if ready > 0 { return fds.map(\.revents) }
            // The deadline is the wall clock's: a poll that returns early by the monotonic clock
            // is asked again, so a timeout is only ever reported once the deadline has passed.
            if ready == 0 {
                if deadline.timeIntervalSinceNow <= 0 { return nil }
                continue
            }
            if errno != EINTR { throw Failure(stage: stage, errno: errno) }
        }
    }

    /// Waits until the socket is readable or writable, the deadline passes (`ETIMEDOUT`) or the
    /// interrupt fires (`ECANCELED`).
    private func wait(for events: Int16, until deadline: Date, stage: String) throws(Failure) {
        guard deadline.timeIntervalSinceNow > 0 else { throw Failure(stage: stage, errno: ETIMEDOUT) }
        var descriptors = [(fd: fd, events: events)]
        if let interrupt { descriptors.append((interrupt.readFD, Int16(POLLIN))) }
        guard let ready = try Self.poll(descriptors, until: deadline, stage: stage) else {
            throw Failure(stage: stage, errno: ETIMEDOUT)
        }
        if ready.count > 1, ready[1] != 0 { throw Failure(stage: stage, errno: ECANCELED) }
    }

    /// Sends every byte of `bytes` before `deadline`.
    /// The corresponding C function is `send`.
    func send(_ bytes: [UInt8], deadline: Date) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT), until: deadline, stage: "send")
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw Failure(stage: "send", errno: errno)
            }
            offset += sent
        }
    }

    /// Receives up to `maxBytes` before `deadline`; an empty result means the peer closed.
    /// The corresponding C function is `recv`.
    func receive(maxBytes: Int, deadline: Date) throws(Failure) -> [UInt8] {
        try wait(for: Int16(POLLIN), until: deadline, stage: "receive")
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        let count = buffer.withUnsafeMutableBytes { raw in Posix.retrying { recv(fd, raw.baseAddress, maxBytes, 0) } }
        guard count >= 0 else { throw Failure(stage: "receive", errno: errno) }
        return Array(buffer.prefix(count))
    }
}
