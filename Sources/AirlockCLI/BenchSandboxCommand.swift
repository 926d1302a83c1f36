import ArgumentParser
import Foundation
import Sandbox

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock bench sandbox`: /bin/true bare (posix_spawn), under Airlock, and under bubblewrap,
/// interleaved in one run; medians, ratios to bare, and throughput with parallel workers.
struct BenchSandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox", abstract: "Benchmark sandbox start-up against posix_spawn and bwrap.")

    @Option(help: "Runs of each contender in the latency phase.")
    var runs: Int = 200

    @Option(help: "Parallel workers in the throughput phase.")
    var workers: Int = 2

    @Option(help: "Runs per worker in the throughput phase.")
    var throughputRuns: Int = 200

    @Option(
        help: ArgumentHelp(
            "Only this contender in the throughput phase (bare, airlock, bwrap), e.g. for profiling.", valueName: "NAME"
        ))
    var only: String?

    @Option(help: "The program to start.")
    var program: String = "/bin/true"

    @Option(
        help: ArgumentHelp(
            "Instead of timing: run N sandboxes and fail if any descriptor, thread or child outlives them.",
            valueName: "N"))
    var leakCheck: Int?

    func run() throws {
        if let leakCheck { return try Self.checkLeaks(runs: leakCheck, program: program) }
        let bwrap = ["/usr/bin/bwrap", "/bin/bwrap"].first { FileManager.default.isExecutableFile(atPath: $0) }
        var contenders: [(String, @Sendable () throws -> Void)] = [
            ("bare (posix_spawn)", { try Self.spawnAndWait([program]) }),
            ("airlock", { try Self.airlock(program) }),
        ]
        if let bwrap {
            contenders.append(("bwrap --unshare-all", { try Self.spawnAndWait(Self.bwrapArgv(bwrap, program)) }))
        }

        // Warm up: compile the BPF program, fault in the binaries.
        for (_, body) in contenders { for _ in 0..<5 { try body() } }

        var samples = Array(repeating: [Double](), count: contenders.count)
        for _ in 0..<runs {
            for (index, contender) in contenders.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                try contender.1()
                samples[index].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
        }
        let bareMedian = Self.percentile(samples[0], 0.5)
        print("sandbox start-up: \(program), \(runs) runs each, interleaved (ms)")
        print(Self.row("contender", "median", "p90", "×bare"))
        var medians: [String: Double] = [:]
        for (index, contender) in contenders.enumerated() {
            let median = Self.percentile(samples[index], 0.5)
            medians[contender.0] = median
            print(
                Self.row(
                    contender.0, String(format: "%.3f", median),
                    String(format: "%.3f", Self.percentile(samples[index], 0.9)),
                    String(format: "%.2f", median / bareMedian)))
        }

        print("\nthroughput: \(workers) workers × \(throughputRuns) runs (runs/s)")
        var rates: [String: Double] = [:]
        for contender in contenders where only.map({ contender.0.hasPrefix($0) }) ?? true {
            let rate = try Self.throughput(workers: workers, runs: throughputRuns, body: contender.1)
            rates[contender.0] = rate
            print(Self.row(contender.0, String(format: "%.0f", rate), "", ""))
        }
        if let bwrapMedian = medians["bwrap --unshare-all"], let airlockMedian = medians["airlock"],
            let bwrapRate = rates["bwrap --unshare-all"], let airlockRate = rates["airlock"]
        {
            print("")
            print(String(format: "airlock median / bare  = %.2f  (target ≤ 2.0)", airlockMedian / bareMedian))
            print(String(format: "airlock median / bwrap = %.2f  (target ≤ 0.5)", airlockMedian / bwrapMedian))
            print(
                String(
                    format: "airlock rate / bwrap rate (%d workers) = %.2f  (target ≥ 3.0)", workers,
                    airlockRate / bwrapRate))
        }
    }

    /// Runs sandboxes (with and without a cgroup, one timing out) and compares this process's
    /// descriptors before and after: the "nothing of the run survives" check.
    static func checkLeaks(runs: Int, program: String) throws {
        func descriptors() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).sorted()
        }
        _ = try Sandbox().runBlocking(SandboxSpec(program: program))  // warm-up: caches, lazily opened files
        Sandbox.discardPrespawnedChildren()
        let before = descriptors()
        for n in 0..<runs {
            var spec = SandboxSpec(
                program: "/bin/sh", arguments: ["-c", "echo out; echo err >&2; sleep \(n % 3 == 0 ? 5 : 0)"])
            spec.limits.wallTimeSeconds = n % 3 == 0 ? 0.2 : 10
            if n % 2 == 0, SandboxProbe.current.cgroup.usable { spec.limits.memoryBytes = 256 << 20 }
            _ = try Sandbox().runBlocking(spec)
        }
        // Children waiting for future runs (and their descriptors) are not a run's leftovers.
        Sandbox.discardPrespawnedChildren()
        let after = descriptors()
        let leaked = Set(after).subtracting(before)
        let children = Self.childrenOfThisProcess()
        print(
            "descriptors before: \(before.count), after \(runs) runs: \(after.count); children left: \(children.isEmpty ? "none" : children.joined(separator: " "))"
        )
        guard leaked.isEmpty, children.isEmpty else {
            let targets = leaked.map {
                "\($0) → "
                    + ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) ?? "?")
            }
            throw ValidationError("leaked: \(targets.joined(separator: ", "))")
        }
        print("no leaks")
    }

    /// Children of any thread of this process (`/proc/self/task/*/children`).
    static func childrenOfThisProcess() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/self/task/\(task)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").map(String.init)
        }
    }

    static func row(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
        a.padding(toLength: 22, withPad: " ", startingAt: 0) + b.leftPad(10) + c.leftPad(10) + d.leftPad(8)
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    static func airlock(_ program: String) throws {
        let record = try Sandbox().runBlocking(SandboxSpec(program: program))
        guard record.shellExitCode == 0 else {
            throw ValidationError("airlock run of \(program) exited \(record.shellExitCode)")
        }
    }

    static func bwrapArgv(_ bwrap: String, _ program: String) -> [String] {
        var argv = [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr"]
        for dir in ["/bin", "/sbin", "/lib", "/lib64"] {
            if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: dir) {
                argv += ["--symlink", link, dir]
            } else if FileManager.default.fileExists(atPath: dir) {
                argv += ["--ro-bind", dir, dir]
            }
        }
        argv += [
            "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache", "--proc", "/proc", "--dev", "/dev",
            "--tmpfs", "/tmp", "--", program,
        ]
        return argv
    }

    static func spawnAndWait(_ argv: [String]) throws {
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        let env: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
        defer { for e in env { free(e) } }
        let rc = posix_spawn(&pid, argv[0], nil, nil, cArgs, env)
        guard rc == 0 else { throw ValidationError("posix_spawn(\(argv[0])): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw ValidationError("\(argv[0]) exited with status \(status)") }
    }

    static func throughput(workers: Int, runs: Int, body: @escaping @Sendable () throws -> Void) throws -> Double {
        let group = DispatchGroup()
        let failures = FailureBox()
        let start = DispatchTime.now().uptimeNanoseconds
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
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(workers * runs) / seconds
    }
}

private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [any Error] = []
    func record(_ error: any Error) { lock.withLock { errors.append(error) } }
    var first: (any Error)? { lock.withLock { errors.first } }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
