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
            let connected = Posix.socketAddress(corridor.address, port: corridor.port).map {
                Posix.connectTCP($0, timeoutSeconds: limits.connectTimeoutSeconds)
            }
            switch connected {
            case .success(let service)?:
                let relay = Relay(
                    index: index, corridor: corridor, client: client, service: service, started: started, forwarder: self)
                state.withLock { $0.open[index] = relay }
                relay.start(group: relays)
            case .failure(let error)?:
                Posix.close(client)
                record(
                    index,
                    CorridorConnection(
                        host: corridor.host, port: corridor.port, address: corridor.address,
                        durationSeconds: Self.seconds(since: started), outcome: .refused,
                        reason: "connect \(corridor.address):\(corridor.port): \(error.description)"))
            case nil:
                Posix.close(client)
                record(
                    index,
                    CorridorConnection(
                        host: corridor.host, port: corridor.port, address: corridor.address, outcome: .refused,
                        reason: "\(corridor.address) is not a numeric address"))
            }
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

    fileprivate func finished(_ relay: Relay, _ record: CorridorConnection) {
        state.withLock { state in
            state.open[relay.index] = nil
            state.records.append((relay.index, record))
        }
    }

    private func record(_ index: Int, _ connection: CorridorConnection) {
        state.withLock { $0.records.append((index < 0 ? Int.max : index, connection)) }
    }

    fileprivate static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

/// One forwarded connection: the program's side, the service's, and what crossed.
private final class Relay: Sendable {
    let index: Int
    let corridor: Corridor
    let client: Int32
    let service: Int32
    let started: UInt64
    let forwarder: CorridorForwarder
    private let state = Mutex(RelayState())

    private struct RelayState {
        var sent: UInt64 = 0
        var received: UInt64 = 0
        var pumpsLeft = 2
        var cutReason: String?
    }

    init(index: Int, corridor: Corridor, client: Int32, service: Int32, started: UInt64, forwarder: CorridorForwarder) {
        self.index = index
        self.corridor = corridor
        self.client = client
        self.service = service
        self.started = started
        self.forwarder = forwarder
    }

    func start(group: DispatchGroup) {
        for toService in [true, false] {
            group.enter()
            let thread = Thread { [self] in
                pump(toService: toService)
                group.leave()
            }
            thread.name = "airlock.corridor relay"
            thread.start()
        }
    }

    /// Cuts the connection (both sides, both ways); the first reason given is recorded.
    func cut(_ reason: String) {
        state.withLock { if $0.cutReason == nil { $0.cutReason = reason } }
        Posix.shutdown(client, reading: true, writing: true)
        Posix.shutdown(service, reading: true, writing: true)
    }

    private func pump(toService: Bool) {
        let (from, to) = toService ? (client, service) : (service, client)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: CorridorForwarder.bufferBytes, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = Posix.readSome(from, into: buffer)
            if n <= 0 { break }
            let granted = forwarder.take(n)
            let delivered = granted > 0 && Posix.sendAll(to, UnsafeRawBufferPointer(rebasing: buffer[..<granted]))
            if delivered {
                state.withLock {
                    if toService { $0.sent += UInt64(granted) } else { $0.received += UInt64(granted) }
                }
            }
            if !delivered || granted < n { break }
        }
        // This direction is done: pass the end of stream on, so the other side can finish.
        Posix.shutdown(to, reading: false, writing: true)
        let last = state.withLock { state -> RelayState? in
            state.pumpsLeft -= 1
            return state.pumpsLeft == 0 ? state : nil
        }
        guard let last else { return }
        Posix.close(client)
        Posix.close(service)
        forwarder.finished(
            self,
            CorridorConnection(
                host: corridor.host, port: corridor.port, address: corridor.address, bytesSent: last.sent,
                bytesReceived: last.received, durationSeconds: CorridorForwarder.seconds(since: started),
                outcome: last.cutReason == nil ? .closed : .cut, reason: last.cutReason))
    }
}
