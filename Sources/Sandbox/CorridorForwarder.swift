import AirlockCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The outside half of a run's corridors: accepts on the listening sockets the child made in
/// its own network namespace (a socket keeps the namespace it was made in, so Airlock accepts
/// there without entering it, unprivileged too) and forwards each connection to its corridor's
/// address, from Airlock's own network. Bounded per run by ``CorridorLimits``; every connection,
/// refused ones included, is recorded.
///
/// One thread per listener accepts; each connection is relayed by two threads, one per
/// direction, with blocking I/O: a run has at most ``CorridorLimits/maxConnections`` of them,
/// and nothing here is on a hot path that a poll loop would serve better.
final class CorridorForwarder: Sendable {
    /// After the run ends, how long connections may take to finish what the program left in
    /// flight (its last request, the service's last answer) before they are cut: 0.5 s.
    static let drainSeconds = 0.5
    /// Bytes read at a time per direction: 64 KiB.
    static let bufferBytes = 64 << 10

    private let corridors: [Corridor]
    private let limits: CorridorLimits
    private let listeners: [Int32]
    private let stop: (read: Int32, write: Int32)?
    private let threads = DispatchGroup()
    private let relays = DispatchGroup()
    private let state = Mutex(State())

    private struct State {
        var accepted = 0
        var bytes: UInt64 = 0
        var open: [Int: Relay] = [:]
        var records: [(index: Int, record: CorridorConnection)] = []
        var finished: [CorridorConnection]?
    }

    /// Starts accepting on `listeners` (one per corridor, in the same order); owns them.
    init(corridors: [Corridor], limits: CorridorLimits, listeners: [Int32]) {
        self.corridors = corridors
        self.limits = limits
        self.listeners = listeners
        stop = try? Posix.pipe()
        for (corridor, listener) in zip(corridors, listeners) {
            threads.enter()
            let thread = Thread { [self] in
                acceptLoop(corridor, listener)
                threads.leave()
            }
            thread.name = "airlock.corridor \(corridor.host):\(corridor.port)"
            thread.start()
        }
    }

    /// Stops accepting, lets open connections drain for ``drainSeconds``, cuts what is left,
    /// and returns every connection in the order accepted. Call once the sandbox is gone; later
    /// calls return the same list.
    func finish() -> [CorridorConnection] {
        if let done = state.withLock({ $0.finished }) { return done }
        if let stop { _ = Glibc.write(stop.write, "x", 1) }
        threads.wait()
        for listener in listeners { Posix.close(listener) }
        if relays.wait(timeout: .now() + Self.drainSeconds) == .timedOut {
            let open = state.withLock { Array($0.open.values) }
            for relay in open { relay.cut("the run ended") }
            relays.wait()
        }
        if let stop {
            Posix.close(stop.read)
            Posix.close(stop.write)
        }
        return state.withLock { state in
            let done = state.records.sorted { $0.index < $1.index }.map(\.record)
            state.finished = done
            return done
        }
    }

    private func acceptLoop(_ corridor: Corridor, _ listener: Int32) {
        guard let stop else { return }
        while let client = Posix.accept(listener, unless: stop.read) {
            let started = DispatchTime.now().uptimeNanoseconds
            let index = state.withLock { state -> Int? in
                guard state.accepted < limits.maxConnections else { return nil }
                state.accepted += 1
                return state.accepted
            }
            guard let index else {
                Posix.close(client)
                record(
                    -1,
                    CorridorConnection(
                        host: corridor.host, port: corridor.port, address: corridor.address, outcome: .refused,
                        reason: "connection limit (\(limits.maxConnections) per call)"))
                continue
            }
            let relay = Relay(index: index, corridor: corridor, client: client, started: started, forwarder: self)
            state.withLock { $0.open[index] = relay }
            relay.start(group: relays)
        }
    }

    /// Connects to `corridor`'s address within the connect timeout.
    fileprivate func connect(_ corridor: Corridor) -> Result<Int32, ConnectFailure> {
        guard let address = Posix.socketAddress(corridor.address, port: corridor.port) else {
            return .failure(ConnectFailure(reason: "\(corridor.address) is not a numeric address"))
        }
        switch Posix.connectTCP(address, timeoutSeconds: limits.connectTimeoutSeconds) {
        case .success(let fd): return .success(fd)
        case .failure(let error):
            return .failure(
                ConnectFailure(reason: "connect \(corridor.address):\(corridor.port): \(error.description)"))
        }
    }

    /// Takes up to `count` bytes of the run's byte budget; what it grants may be less (then the
    /// limit is reached and every open connection is cut).
    fileprivate func take(_ count: Int) -> Int {
        let granted = state.withLock { state -> Int in
            let left = limits.maxBytes > state.bytes ? limits.maxBytes - state.bytes : 0
            let granted = Int(min(UInt64(count), left))
            state.bytes += UInt64(granted)
            return granted
        }
        if granted < count {
            let open = state.withLock { Array($0.open.values) }
            for relay in open { relay.cut("byte limit (\(limits.maxBytes) per call)") }
        }
        return granted
    }

    fileprivate func finished(_ index: Int, _ record: CorridorConnection) {
        state.withLock { state in
            state.open[index] = nil
            state.records.append((index, record))
        }
    }

    private func record(_ index: Int, _ connection: CorridorConnection) {
        state.withLock { $0.records.append((index < 0 ? Int.max : index, connection)) }
    }

    fileprivate static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

/// Why Airlock could not connect to a corridor's service.
private struct ConnectFailure: Error {
    let reason: String
}

/// One forwarded connection: the program's side, the service's, and what crossed. Its first
/// thread reads an HTTP corridor's request head (refusing it there if the rules do), connects to
/// the service and relays the program's bytes; a second relays the service's.
private final class Relay: Sendable {
    let index: Int
    let corridor: Corridor
    let client: Int32
    let started: UInt64
    let forwarder: CorridorForwarder
    private let state = Mutex(RelayState())

    private struct RelayState {
        var service: Int32 = -1
        var sent: UInt64 = 0
        var received: UInt64 = 0
        var pumpsLeft = 1
        var cutReason: String?
        var refused: String?
        var method: String?
        var path: String?
        var status: Int?
        var closed = false
    }

    init(index: Int, corridor: Corridor, client: Int32, started: UInt64, forwarder: CorridorForwarder) {
        self.index = index
        self.corridor = corridor
        self.client = client
        self.started = started
        self.forwarder = forwarder
    }

    func start(group: DispatchGroup) {
        group.enter()
        let thread = Thread { [self] in
            open(group: group)
            group.leave()
        }
        thread.name = "airlock.corridor relay"
        thread.start()
    }

    /// Cuts the connection (both sides, both ways); the first reason given is recorded.
    func cut(_ reason: String) {
        let service = state.withLock { state -> Int32 in
            if state.cutReason == nil { state.cutReason = reason }
            return state.service
        }
        Posix.shutdown(client, reading: true, writing: true)
        if service >= 0 { Posix.shutdown(service, reading: true, writing: true) }
    }

    private func open(group: DispatchGroup) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: CorridorForwarder.bufferBytes, alignment: 16)
        defer { buffer.deallocate() }
        var request: CorridorRequest?
        var early: [UInt8] = []
        if let rules = corridor.http {
            switch readRequest(rules: rules, buffer: buffer) {
            case .success(let (head, rest)):
                request = head
                early = rest
                state.withLock {
                    $0.method = head.method
                    $0.path = head.path
                }
            case .failure(let refusal):
                let answer = CorridorRequest.response(to: refusal)
                _ = answer.withUnsafeBytes { Posix.sendAll(client, $0) }
                state.withLock {
                    $0.refused = refusal.reason
                    $0.method = refusal.method
                    $0.path = refusal.path
                    $0.status = refusal.status
                }
                return done()
            }
        }
        let service: Int32
        switch forwarder.connect(corridor) {
        case .success(let fd): service = fd
        case .failure(let failure):
            let reason = failure.reason
            if corridor.http != nil {
                let answer = CorridorRequest.response(to: .init(status: 502, reason: reason))
                _ = answer.withUnsafeBytes { Posix.sendAll(client, $0) }
                state.withLock { $0.status = 502 }
            }
            state.withLock { $0.refused = reason }
            return done()
        }
        let cutAlready = state.withLock { state -> Bool in
            state.service = service
            state.pumpsLeft = 2
            return state.cutReason != nil
        }
        if cutAlready { Posix.shutdown(service, reading: true, writing: true) }
        group.enter()
        let back = Thread { [self] in
            pump(from: service, to: client, toService: false)
            group.leave()
        }
        back.name = "airlock.corridor relay"
        back.start()
        if let request {
            // The head as rewritten, what of the body came with it, then the rest of the body:
            // nothing after it is read, so no second request rides on the first.
            var ok = forward(request.forwardedHead, to: service, toService: true)
            let body = min(early.count, request.bodyLength)
            if ok && body > 0 { ok = forward(Array(early[..<body]), to: service, toService: true) }
            if ok {
                pump(from: client, to: service, toService: true, limit: request.bodyLength - body)
            } else {
                finishDirection(to: service)
            }
        } else {
            pump(from: client, to: service, toService: true)
        }
    }

    /// Reads the request head (up to the blank line, at most the rules' header limit) and parses
    /// it; returns it with whatever bytes came after the head.
    private func readRequest(rules: HTTPRules, buffer: UnsafeMutableRawBufferPointer) -> Result<
        (CorridorRequest, [UInt8]), CorridorRequest.Refusal
    > {
        var head: [UInt8] = []
        let blank: [UInt8] = [13, 10, 13, 10]
        while true {
            if let end = head.firstRange(of: blank) {
                guard end.upperBound <= rules.maxHeaderBytes else {
                    return .failure(.init(status: 431, reason: "request head over \(rules.maxHeaderBytes) bytes"))
                }
                let rest = Array(head[end.upperBound...])
                return CorridorRequest.parse(Array(head[..<end.upperBound]), rules: rules).map { ($0, rest) }
            }
            if head.count > rules.maxHeaderBytes {
                return .failure(.init(status: 431, reason: "request head over \(rules.maxHeaderBytes) bytes"))
            }
            let n = Posix.readSome(client, into: buffer)
            if n <= 0 {
                return .failure(.init(status: 400, reason: "the connection ended before a complete request head"))
            }
            head += UnsafeRawBufferPointer(rebasing: buffer[..<n])
        }
    }

    /// Sends `bytes` within the byte budget; `false` when it ran out or the peer is gone.
    private func forward(_ bytes: [UInt8], to fd: Int32, toService: Bool) -> Bool {
        let granted = forwarder.take(bytes.count)
        let delivered =
            granted > 0 && bytes.withUnsafeBytes { Posix.sendAll(fd, UnsafeRawBufferPointer(rebasing: $0[..<granted])) }
        if delivered { count(granted, toService: toService, first: bytes) }
        return delivered && granted == bytes.count
    }

    private func count(_ n: Int, toService: Bool, first: some Collection<UInt8>) {
        state.withLock { state in
            if toService {
                state.sent += UInt64(n)
            } else {
                if state.received == 0, corridor.http != nil { state.status = CorridorRequest.status(of: first) }
                state.received += UInt64(n)
            }
        }
    }

    /// Relays `from` to `to` until the end of stream (or `limit` bytes), the budget or a cut.
    private func pump(from: Int32, to: Int32, toService: Bool, limit: Int? = nil) {
        var left = limit ?? Int.max
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: CorridorForwarder.bufferBytes, alignment: 16)
        defer { buffer.deallocate() }
        while left > 0 {
            let n = Posix.readSome(
                from, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<min(buffer.count, left)]))
            if n <= 0 { break }
            let granted = forwarder.take(n)
            let delivered = granted > 0 && Posix.sendAll(to, UnsafeRawBufferPointer(rebasing: buffer[..<granted]))
            if delivered {
                count(granted, toService: toService, first: UnsafeRawBufferPointer(rebasing: buffer[..<granted]))
            }
            if !delivered || granted < n { break }
            left -= n
        }
        finishDirection(to: to)
    }

    /// This direction is done: pass the end of stream on, so the other side can finish; the last
    /// direction to finish closes both sides and records the connection.
    private func finishDirection(to: Int32) {
        Posix.shutdown(to, reading: false, writing: true)
        let last = state.withLock { state -> Bool in
            state.pumpsLeft -= 1
            return state.pumpsLeft == 0
        }
        if last { done() }
    }

    /// Closes what is open and records the connection, once.
    private func done() {
        let final = state.withLock { state -> RelayState? in
            guard !state.closed else { return nil }
            state.closed = true
            return state
        }
        guard let final else { return }
        Posix.close(client)
        if final.service >= 0 { Posix.close(final.service) }
        let outcome: CorridorConnection.Outcome =
            final.refused != nil ? .refused : final.cutReason == nil ? .closed : .cut
        var record = CorridorConnection(
            host: corridor.host, port: corridor.port, address: corridor.address, bytesSent: final.sent,
            bytesReceived: final.received, durationSeconds: CorridorForwarder.seconds(since: started),
            outcome: outcome, reason: final.refused ?? final.cutReason)
        record.method = final.method
        record.path = final.path
        record.status = final.status
        forwarder.finished(index, record)
    }
}
