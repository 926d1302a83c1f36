import Foundation
import Sandbox

/// A corridor against a direct connection, in the same run: one client program, timing itself,
/// run once confined with a corridor to a service on this host's loopback and once on the host
/// straight to it. Latency: round trips of a 64-byte line; throughput: a bulk send, acknowledged.
struct CorridorBench {
    /// Round trips timed per run.
    var roundTrips = 2000
    /// Bytes sent for the throughput figure.
    var bulkBytes = 32 << 20
    /// Runs of each (the median is reported).
    var rounds = 3

    /// The service: `L` then lines echoed back; `T` then bytes counted until the end, answered with
    /// their count. Bounded: 64 connections, 120 s, then it exits by itself.
    static let service = """
        import socket, sys, threading
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0)); s.listen(16); s.settimeout(120)
        print(s.getsockname()[1], flush=True)
        def serve(c):
            kind = c.recv(1)
            if kind == b"L":
                f = c.makefile("rb")
                for line in f:
                    c.sendall(line)
            else:
                total = 0
                while True:
                    chunk = c.recv(1 << 20)
                    if not chunk: break
                    total += len(chunk)
                c.sendall(str(total).encode())
            c.close()
        for _ in range(64):
            try:
                c, _ = s.accept()
            except socket.timeout:
                break
            threading.Thread(target=serve, args=(c,), daemon=True).start()
        """

    /// The client: prints microseconds per round trip and MB/s of the bulk send.
    static func client(host: String, port: UInt16, roundTrips: Int, bulkBytes: Int) -> String {
        """
        import socket, time
        c = socket.create_connection(("\(host)", \(port))); c.sendall(b"L")
        f = c.makefile("rb"); line = b"x" * 63 + b"\\n"
        c.sendall(line); f.readline()
        start = time.perf_counter()
        for _ in range(\(roundTrips)):
            c.sendall(line); f.readline()
        latency = (time.perf_counter() - start) / \(roundTrips) * 1e6
        c.close()
        c = socket.create_connection(("\(host)", \(port))); c.sendall(b"T")
        block = b"y" * (1 << 20)
        start = time.perf_counter()
        for _ in range(\(bulkBytes >> 20)):
            c.sendall(block)
        c.shutdown(socket.SHUT_WR)
        assert int(c.recv(64)) == \(bulkBytes)
        throughput = \(bulkBytes) / (time.perf_counter() - start) / 1e6
        print(latency, throughput)
        """
    }

    func run(scratch: URL) async throws -> [Row] {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-c", Self.service]
        let out = Pipe()
        server.standardOutput = out
        try server.run()
        defer { server.terminate() }
        let portLine = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = UInt16(portLine.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchError("corridor: the service did not start (\(portLine))")
        }
        var confined: [(Double, Double)] = []
        var direct: [(Double, Double)] = []
        for _ in 0..<rounds {
            var spec = SandboxSpec(
                program: "/usr/bin/python3",
                arguments: [
                    "-c", Self.client(host: "bench.internal", port: port, roundTrips: roundTrips, bulkBytes: bulkBytes),
                ], limits: SandboxLimits(wallTimeSeconds: 120))
            spec.corridors = [
                Corridor(host: "bench.internal", port: port, address: "127.0.0.1", insideAddress: "127.1.0.1")
            ]
            spec.corridorLimits = CorridorLimits(maxBytes: UInt64(bulkBytes) * 2)
            let record = try await Sandbox().run(spec)
            confined.append(try Self.figures(record.stdout.text, what: "confined client: \(record.stderr.text)"))
            let host = Process()
            host.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            host.arguments = [
                "-c", Self.client(host: "127.0.0.1", port: port, roundTrips: roundTrips, bulkBytes: bulkBytes),
            ]
            let hostOut = Pipe()
            host.standardOutput = hostOut
            try host.run()
            let text = String(decoding: hostOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            host.waitUntilExit()
            direct.append(try Self.figures(text, what: "direct client"))
        }
        let note = "\(roundTrips) round trips of 64 B; \(bulkBytes >> 20) MiB sent; median of \(rounds)"
        return [
            Row(
                id: "corridor.latency", what: "round trip through a corridor", figure: Stats.median(confined.map(\.0)),
                unit: "µs", anchor: Stats.median(direct.map(\.0)), anchorName: "direct loopback connection",
                comparison: .ratio, note: note),
            Row(
                id: "corridor.throughput", what: "bulk send through a corridor",
                figure: Stats.median(confined.map(\.1)),
                unit: "MB/s", anchor: Stats.median(direct.map(\.1)), anchorName: "direct loopback connection",
                comparison: .ratio, note: note),
        ]
    }

    static func figures(_ text: String, what: String) throws -> (Double, Double) {
        let parts = text.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard parts.count == 2 else { throw BenchError("corridor: \(what) printed \(text)") }
        return (parts[0], parts[1])
    }
}
