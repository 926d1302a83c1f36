import Foundation

/// The `airlock` executable started once per use, as developers, hooks and stdio servers start
/// it: `airlock sandbox run -- /bin/true` against a `bwrap --unshare-all` process with the same
/// kind of root, and `airlock --version` against `/bin/true`, alternating, each a whole process
/// from `posix_spawn` to `waitpid`.
struct CLIBench {
    /// The release `airlock` binary to time.
    var airlock: URL?
    /// Runs of each.
    var runs = 100

    func run(scratch: URL) throws -> [Row] {
        guard let airlock else { throw BenchError("no airlock binary given (--airlock PATH)") }
        guard let bwrap = Spawn.bwrap else { throw BenchError("bwrap is not installed (tools/install-deps)") }
        // Nothing of the caller's environment: a home of its own, the PATH a hook would have.
        let home = scratch.appendingPathComponent("cli-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        defer { try? FileManager.default.removeItem(at: home) }
        let environment = ["PATH=/usr/bin:/bin", "AIRLOCK_HOME=\(home.path)", "HOME=\(home.path)"]
        let contenders: [(String, [String])] = [
            ("sandbox", [airlock.path, "sandbox", "run", "--", "/bin/true"]),
            ("bwrap", Spawn.bwrapArgv(bwrap, ["/bin/true"])),
            ("version", [airlock.path, "--version"]),
            ("true", ["/bin/true"]),
        ]
        for (_, argv) in contenders { for _ in 0..<5 { try Spawn.run(argv, environment: environment) } }
        var samples = Array(repeating: [Double](), count: contenders.count)
        for _ in 0..<runs {
            for (index, contender) in contenders.enumerated() {
                let start = Stats.now()
                try Spawn.run(contender.1, environment: environment)
                samples[index].append(Stats.since(start) / 1e6)
            }
        }
        let median = samples.map(Stats.median)
        // What a start maps: the shared libraries the loader brings in (libcurl and its twenty
        // were among them until CLazyCurl; docs/performance.md, "One-shot CLI").
        let libraries = try Spawn.output(["/usr/bin/ldd", airlock.path]).split(separator: "\n")
            .filter { $0.contains(".so") && !$0.contains("linux-vdso") }
        let loads =
            "\(libraries.count) shared libraries at start"
            + (libraries.contains { $0.contains("libcurl") } ? ", libcurl among them" : ", not libcurl")
        return [
            Row(
                id: "cli.sandbox_run", what: "one-shot `airlock sandbox run -- /bin/true` (median)", figure: median[0],
                unit: "ms", anchor: median[1], anchorName: "a `bwrap --unshare-all` process, same root",
                comparison: .ratio, note: "\(runs) runs each, alternating; \(loads)"),
            Row(
                id: "cli.version", what: "`airlock --version` (median)", figure: median[2], unit: "ms",
                anchor: median[3], anchorName: "`/bin/true`", comparison: .ratio,
                note: "\(runs) runs each, alternating; \(loads)"),
        ]
    }
}
