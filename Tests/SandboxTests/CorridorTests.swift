import AirlockTestSupport
import Foundation
import Testing

@testable import Sandbox

/// Corridors through the real sandbox to a real service in a test network namespace: the
/// declared endpoint is reached and recorded; everything else is refused and recorded.
@Suite(
    .enabled(if: Box.available, "user, mount, pid and network namespaces are not available on this host"),
    .enabled(if: TestNetwork.available, "making a test network namespace (ip netns, veth) needs root and iproute2"))
struct CorridorTests {
    /// Runs `program` (Python) with one corridor `records.internal:port` to the network's service.
    static func run(
        _ program: String, network: TestNetwork, ports: [UInt16] = [7000], limits: CorridorLimits = CorridorLimits()
    ) async throws -> ExecutionRecord {
        var spec = SandboxSpec(
            program: "/usr/bin/python3", arguments: ["-c", program], limits: SandboxLimits(wallTimeSeconds: 30))
        spec.corridors = ports.map {
            Corridor(
                host: "records.internal", port: $0, address: network.serviceAddress,
                insideAddress: Corridor.insideAddress(forHostAt: 0))
        }
        spec.corridorLimits = limits
        return try await Sandbox().run(spec)
    }

    /// A Python helper the programs share: one line to `host:port`, the answer or the error.
    static let attempt = """
        import socket
        def attempt(host, port, line=b"airlock\\n"):
            try:
                s = socket.create_connection((host, port), timeout=5)
                s.sendall(line)
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk: break
                    data += chunk
                s.close()
                return "ok " + data.decode().strip()
            except socket.gaierror as e:
                return "unresolved"
            except OSError as e:
                return "refused %s" % e.errno

        """

    @Test func theDeclaredEndpointIsReachedAndEachConnectionRecorded() async throws {
        let network = try TestNetwork()
        let service = try network.startService(ports: [7000])
        let record = try await Self.run(
            Self.attempt + """
                print(attempt("records.internal", 7000))
                print(attempt("records.internal", 7000, b"twice\\n"))
                """, network: network)
        #expect(record.termination == .exited(0), "\(record.stderr.text)")
        #expect(record.stdout.text == "ok hello airlock\nok hello twice\n")
        let activity = try #require(record.network)
        #expect(activity.connections.count == 2)
        let first = try #require(activity.connections.first)
        #expect(first.host == "records.internal" && first.port == 7000 && first.address == network.serviceAddress)
        #expect(first.outcome == .closed)
        #expect(first.bytesSent == 8)
        #expect(first.bytesReceived == 14)
        #expect(activity.refusedConnects.isEmpty)
        #expect(service.count(of: "accepted 7000") == 2)
        #expect(record.confinement.networkNamespace?.contains("127.1.0.1:7000") == true)
    }

    @Test func everythingElseIsRefusedAndRecorded() async throws {
        let network = try TestNetwork()
        let service = try network.startService(ports: [7000, 7001])
        // A service on the host's own loopback: the sandbox's loopback is another one.
        let hostPort = UInt16(17_000 + Int(getpid()) % 20_000)
        let hostService = try network.startService(ports: [hostPort], address: "127.0.0.1", inNamespace: false)
        let record = try await Self.run(
            Self.attempt + """
                print(attempt("records.internal", 7001))
                print(attempt("tickets.internal", 7000))
                print(attempt("\(network.serviceAddress)", 7000))
                print(attempt("127.0.0.1", \(hostPort)))
                print(attempt("example.com", 80))
                try:
                    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    print("UDP OPEN")
                except OSError as e:
                    print("udp refused %s" % e.errno)
                try:
                    socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                    print("INET6 OPEN")
                except OSError as e:
                    print("inet6 refused %s" % e.errno)
                """, network: network)
        #expect(record.termination == .exited(0), "\(record.stderr.text)")
        let lines = record.stdout.text.split(separator: "\n").map(String.init)
        // Undeclared port, undeclared host (no name resolves but the declared ones), raw IP of the
        // service, the host's loopback, an external name (no DNS: files only), UDP, IPv6.
        #expect(
            lines == [
                "refused 1", "unresolved", "refused 1", "refused 1", "unresolved", "udp refused 1", "inet6 refused 1",
            ])
        let activity = try #require(record.network)
        #expect(activity.connections.isEmpty)
        #expect(
            activity.refusedConnects == ["127.1.0.1:7001", "\(network.serviceAddress):7000", "127.0.0.1:\(hostPort)"])
        #expect(service.count(of: "accepted") == 0)
        #expect(hostService.count(of: "accepted") == 0)
        let socketDenial = try #require(record.deniedSyscalls.first { $0.name == "socket" })
        #expect(socketDenial.count == 2)
        #expect(socketDenial.detail == "family=AF_INET type=SOCK_DGRAM")
        #expect(record.deniedSyscalls.first { $0.name == "connect" }?.count == 3)
    }

    @Test func theConnectionLimitRefusesAndTheByteLimitCuts() async throws {
        let network = try TestNetwork()
        try network.startService(ports: [7000])
        let record = try await Self.run(
            Self.attempt + """
                print(attempt("records.internal", 7000))
                print(attempt("records.internal", 7000))
                """, network: network, limits: CorridorLimits(maxConnections: 1))
        #expect(record.termination == .exited(0), "\(record.stderr.text)")
        #expect(record.stdout.text.hasPrefix("ok hello airlock\n"))
        let connections = try #require(record.network?.connections)
        #expect(connections.map(\.outcome) == [.closed, .refused])
        #expect(connections.last?.reason == "connection limit (1 per call)")

        let cut = try await Self.run(
            Self.attempt + """
                print(attempt("records.internal", 7000, b"x" * 100000 + b"\\n"))
                """, network: network, limits: CorridorLimits(maxBytes: 1000))
        let connection = try #require(cut.network?.connections.first)
        #expect(connection.outcome == .cut)
        #expect(connection.reason == "byte limit (1000 per call)")
        #expect(connection.bytesSent + connection.bytesReceived <= 1000)
    }

    @Test func anUnreachableServiceIsARefusedConnection() async throws {
        let network = try TestNetwork()
        // Nothing listens on 7002 in the namespace: the service's kernel refuses.
        let record = try await Self.run(
            Self.attempt + "print(attempt('records.internal', 7002))", network: network, ports: [7002])
        #expect(record.stdout.text.hasPrefix("ok") || record.stdout.text.hasPrefix("refused"))
        let connection = try #require(record.network?.connections.first)
        #expect(connection.outcome == .refused)
        #expect(connection.reason?.contains("ECONNREFUSED") == true)
    }

    @Test func badCorridorsAreRefusedBeforeAnythingRuns() async throws {
        var spec = SandboxSpec(program: "/bin/true")
        spec.corridors = [
            Corridor(host: "records.internal", port: 7000, address: "records", insideAddress: "127.1.0.1")
        ]
        await #expect(throws: SandboxError.self) { try await Sandbox().run(spec) }
        spec.corridors = [
            Corridor(host: "records.internal", port: 7000, address: "10.0.0.1", insideAddress: "127.0.0.1")
        ]
        await #expect(throws: SandboxError.self) { try await Sandbox().run(spec) }
        spec.corridors = [
            Corridor(host: "records.internal", port: 7000, address: "10.0.0.1", insideAddress: "10.1.0.1")
        ]
        await #expect(throws: SandboxError.self) { try await Sandbox().run(spec) }
    }

    @Test func anHTTPCorridorForwardsOnlyTheAllowedMethodsAndPaths() async throws {
        let network = try TestNetwork()
        let root = try Box.writableDirectory()
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("api/tickets"), withIntermediateDirectories: true)
        try Data("{\"id\": 17}\n".utf8).write(to: root.appendingPathComponent("api/tickets/17"))
        let service = try network.startHTTPService(port: 8080, directory: root)
        var spec = SandboxSpec(
            program: "/usr/bin/python3",
            arguments: [
                "-c",
                """
                import http.client
                def ask(method, path, body=None, headers={}):
                    c = http.client.HTTPConnection("tickets.internal", 8080, timeout=5)
                    try:
                        c.request(method, path, body=body, headers=headers)
                        r = c.getresponse()
                        return "%d %s" % (r.status, (r.read().decode().strip().splitlines() or [""])[0])
                    except OSError as e:
                        return "error %s" % e
                    finally:
                        c.close()
                print(ask("GET", "/api/tickets/17"))
                print(ask("DELETE", "/api/tickets/17"))
                print(ask("GET", "/admin"))
                print(ask("GET", "/api/tickets/%2e%2e/secret"))
                print(ask("POST", "/api/tickets", body=b'{"title": "pump"}'))
                print(ask("GET", "/api/tickets/17", headers={"X-Big": "y" * 20000}))
                """,
            ], limits: SandboxLimits(wallTimeSeconds: 30))
        spec.corridors = [
            Corridor(
                host: "tickets.internal", port: 8080, address: network.serviceAddress, insideAddress: "127.1.0.1",
                http: HTTPRules(methods: ["GET", "POST"], paths: ["/api/tickets/*", "/api/tickets"]))
        ]
        let record = try await Sandbox().run(spec)
        #expect(record.termination == .exited(0), "\(record.stderr.text)")
        let lines = record.stdout.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        #expect(lines.first == "200 {\"id\": 17}")
        #expect(
            lines.dropFirst().first?.hasPrefix("403 airlock corridor: DELETE /api/tickets/17 is not allowed") == true)
        #expect(lines.dropFirst(2).first?.hasPrefix("403 airlock corridor: GET /admin is not allowed") == true)
        #expect(lines.dropFirst(3).first?.hasPrefix("400 airlock corridor: request target") == true)
        // Python's file server has no POST: the service's own answer, forwarded and recorded.
        #expect(lines.dropFirst(4).first?.hasPrefix("501") == true)
        #expect(lines.dropFirst(5).first?.hasPrefix("431 airlock corridor: request head over 16384 bytes") == true)
        let connections = try #require(record.network?.connections)
        #expect(connections.map(\.method) == ["GET", "DELETE", "GET", "GET", "POST", nil])
        #expect(connections.map(\.status) == [200, 403, 403, 400, 501, 431])
        #expect(connections.map(\.outcome) == [.closed, .refused, .refused, .refused, .closed, .refused])
        #expect(connections.first?.path == "/api/tickets/17")
        // Only the two allowed requests ever reached the service.
        #expect(service.count(of: "\"GET /api/tickets/17 HTTP/1.1\" 200") == 1)
        #expect(service.count(of: "\"POST /api/tickets HTTP/1.1\" 501") == 1)
        #expect(service.count(of: "DELETE") == 0 && service.count(of: "/admin") == 0)
    }
}
