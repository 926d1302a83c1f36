import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A network namespace of the test's own, joined to the host's by a veth pair, with a real TCP
/// service in it: what a corridor reaches. Made with `ip netns` and torn down when released.
/// Needs root (CI runs as root; elsewhere the suites that use it skip with the reason). Shared by
/// the corridor tests (a service in the namespace) and the scale-out tests (a worker host in it).
public final class TestNetwork {
    /// The namespace's name.
    public let name: String
    /// The host's end of the pair and the namespace's end.
    public let hostAddress: String
    public let serviceAddress: String
    private let hostInterface: String
    private var servers: [Process] = []

    /// Whether the tests that need one can make it here.
    public static var available: Bool {
        geteuid() == 0
            && (FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
                || FileManager.default.isExecutableFile(atPath: "/sbin/ip"))
    }

    /// Counts the networks this process made, for unique names and subnets.
    nonisolated(unsafe) private static var made = 0
    private static let lock = NSLock()

    public init() throws {
        let serial = Self.lock.withLock {
            Self.made += 1
            return Self.made
        }
        // 198.18.0.0/15 is the range set aside for network benchmarks and tests (RFC 2544): one
        // /30 per test network, numbered by process and serial.
        let tag = String(format: "%05x%02x", getpid() & 0xFFFFF, serial & 0xFF)
        let subnet = (Int(getpid()) &* 31 &+ serial) & 0x1FF
        name = "airlock-t\(tag)"
        hostInterface = "alh\(tag)"
        let inner = "aln\(tag)"
        hostAddress = "198.\(18 + subnet / 256).\(subnet % 256).1"
        serviceAddress = "198.\(18 + subnet / 256).\(subnet % 256).2"
        try Self.ip(["netns", "add", name])
        do {
            try Self.ip(["link", "add", hostInterface, "type", "veth", "peer", "name", inner])
            try Self.ip(["link", "set", inner, "netns", name])
            try Self.ip(["addr", "add", "\(hostAddress)/30", "dev", hostInterface])
            try Self.ip(["link", "set", hostInterface, "up"])
            try Self.ip(["-n", name, "addr", "add", "\(serviceAddress)/30", "dev", inner])
            try Self.ip(["-n", name, "link", "set", inner, "up"])
            try Self.ip(["-n", name, "link", "set", "lo", "up"])
        } catch {
            tearDown()
            throw error
        }
    }

    deinit { tearDown() }

    private func tearDown() {
        for server in servers where server.isRunning {
            // SIGKILL: a child of the test runner may have inherited SIGTERM ignored.
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        servers = []
        try? Self.ip(["link", "del", hostInterface])
        try? Self.ip(["netns", "del", name])
    }

    /// Starts the line service (each connection: read a line, answer `hello LINE`, close) on
    /// `ports` of `address` (default the namespace's own), in the namespace or, with
    /// `inNamespace: false`, on the host. Returns once it listens; its log has an `accepted
    /// PORT` line per connection.
    @discardableResult
    public func startService(ports: [UInt16], address: String? = nil, inNamespace: Bool = true) throws -> ServiceLog {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-service-\(name).py")
        try Self.serviceScript.write(to: script, atomically: true, encoding: .utf8)
        let arguments = ["python3", script.path, address ?? serviceAddress] + ports.map(String.init)
        let log =
            inNamespace
            ? try launch(Self.ipPath, ["netns", "exec", name] + arguments)
            : try launch("/usr/bin/env", arguments)
        // Bounded wait for its "listening" lines (the service itself gives up after 120 s).
        for _ in 0..<500 where log.count(of: "listening") < ports.count { usleep(10_000) }
        guard log.count(of: "listening") == ports.count else {
            throw TestNetworkError(message: "the test service did not start: \(log.text)")
        }
        return log
    }

    /// Starts Python's HTTP file server on `port` in the namespace, serving `directory`; its log
    /// (one line per request: method, path, status) comes back as it is written.
    public func startHTTPService(port: UInt16, directory: URL) throws -> ServiceLog {
        let log = try launch(
            Self.ipPath,
            [
                "netns", "exec", name, "python3", "-u", "-m", "http.server", "--bind", serviceAddress, "--directory",
                directory.path, String(port),
            ])
        for _ in 0..<500 where log.count(of: "Serving HTTP") == 0 { usleep(10_000) }
        guard log.count(of: "Serving HTTP") == 1 else {
            throw TestNetworkError(message: "the test HTTP service did not start: \(log.text)")
        }
        return log
    }

    /// Starts a server process (killed when the network goes) whose output is collected as it comes.
    private func launch(_ executable: String, _ arguments: [String]) throws -> ServiceLog {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let log = ServiceLog()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            // End of file: stop watching (an empty read would otherwise come back at once, forever).
            if chunk.isEmpty { handle.readabilityHandler = nil } else { log.append(chunk) }
        }
        try process.run()
        servers.append(process)
        return log
    }

    public static var ipPath: String {
        FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip"
    }

    public static func ip(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ipPath)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw TestNetworkError(message: "ip \(arguments.joined(separator: " ")): \(text)")
        }
    }

    /// What the service runs: bounded (64 connections per port, 120 s), then it exits by itself.
    static let serviceScript = """
        import socket, sys, threading
        address = sys.argv[1]
        def serve(port):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address, port)); s.listen(16); s.settimeout(120)
            print("listening", port, flush=True)
            for _ in range(64):
                try:
                    c, _ = s.accept()
                except socket.timeout:
                    return
                print("accepted", port, flush=True)
                c.settimeout(10)
                data = b""
                try:
                    while not data.endswith(b"\\n"):
                        chunk = c.recv(65536)
                        if not chunk: break
                        data += chunk
                    c.sendall(b"hello " + data)
                except OSError:
                    pass
                c.close()
        for p in sys.argv[2:]:
            threading.Thread(target=serve, args=(int(p),), daemon=True).start()
        threading.Event().wait(120)
        """
}

/// What a test service printed, collected as it comes.
public final class ServiceLog: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    public func append(_ chunk: Data) { lock.withLock { data.append(chunk) } }
    public var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
    public func count(of word: String) -> Int { text.components(separatedBy: word).count - 1 }
}

public struct TestNetworkError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
