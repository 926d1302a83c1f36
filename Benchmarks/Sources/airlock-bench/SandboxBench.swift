import Foundation
import Sandbox

/// Sandbox start-up: `/bin/true` started bare (`posix_spawn`), under Airlock's full confinement
/// and under `bwrap --unshare-all` with the same kind of root, interleaved; then runs per second
/// with parallel workers. Run as root (Airlock as a service: templates, lent network namespaces)
/// and, through `setpriv`, as an unprivileged user (`variant` `unprivileged`).
struct SandboxBench {
    /// Runs of each contender in the latency phase.
    var runs = 200
    /// Parallel workers in the throughput phase.
    var workers = 2
    /// Runs per worker in the throughput phase.
    var throughputRuns = 300
    /// `""` as root, `"unprivileged"` as uid 65534.
    var variant = ""

    func run(scratch: URL) throws -> [Row] {
        guard let bwrap = Spawn.bwrap else { throw BenchError("bwrap is not installed (tools/install-deps)") }
        let program = "/bin/true"
        let contenders: [(String, @Sendable () throws -> Void)] = [
            ("bare", { try Spawn.run([program]) }),
            (
                "airlock",
                {
                    let record = try Sandbox().runBlocking(SandboxSpec(program: program))
                    guard record.shellExitCode == 0 else {
                        throw BenchError("\(program) exited \(record.shellExitCode)")
                    }
                }
            ),
            ("bwrap", { try Spawn.run(Spawn.bwrapArgv(bwrap, [program])) }),
        ]
        for (_, body) in contenders { for _ in 0..<5 { try body() } }
        var samples = Array(repeating: [Double](), count: contenders.count)
        for _ in 0..<runs {
            for (index, contender) in contenders.enumerated() {
                let start = Stats.now()
                try contender.1()
                samples[index].append(Stats.since(start) / 1e6)
            }
        }
        let medians = samples.map(Stats.median)
        let rates = try contenders.map { try Self.throughput(workers: workers, runs: throughputRuns, body: $0.1) }
        let prefix = variant.isEmpty ? "sandbox" : "sandbox.\(variant)"
        let who = variant.isEmpty ? "root" : variant
        return [
            Row(
                id: "\(prefix).start.bare", what: "sandbox start, \(who) (median)", figure: medians[1], unit: "ms",
                anchor: medians[0], anchorName: "bare `posix_spawn`", comparison: .ratio,
                note: "\(runs) runs each of \(program), interleaved"),
            Row(
                id: "\(prefix).start.bwrap", what: "sandbox start, \(who) (median)", figure: medians[1], unit: "ms",
                anchor: medians[2], anchorName: "`bwrap --unshare-all`", comparison: .ratio, note: ""),
            Row(
                id: "\(prefix).throughput.bwrap", what: "sandbox throughput, \(who), \(workers) workers",
                figure: rates[1],
                unit: "runs/s", anchor: rates[2], anchorName: "`bwrap --unshare-all`", comparison: .ratio,
                note: "bare posix_spawn: \(Int(rates[0])) runs/s"),
        ]
    }

    static func throughput(workers: Int, runs: Int, body: @escaping @Sendable () throws -> Void) throws -> Double {
        let group = DispatchGroup()
        let failures = Failures()
        let start = Stats.now()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread {
                do { for _ in 0..<runs { try body() } } catch { failures.record(error) }
                group.leave()
            }
            thread.start()
        }
        group.wait()
        if let error = failures.first { throw error }
        return Double(workers * runs) / (Stats.since(start) / 1e9)
    }
}

/// Errors from worker threads.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [any Error] = []
    func record(_ error: any Error) { lock.withLock { errors.append(error) } }
    var first: (any Error)? { lock.withLock { errors.first } }
}
