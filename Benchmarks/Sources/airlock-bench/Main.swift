import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock-bench`: runs the benchmarks, each interleaved with its anchor, and prints one table:
/// figure, anchor, the compared value (ratio, difference or overhead), the committed threshold
/// (Benchmarks/thresholds.json) and pass or fail. Exits 1 when a row misses its threshold.
/// `tools/bench` builds it and passes the paths; see `tools/bench --help`.
@main
struct Main {
    /// The benchmarks, in the order they run.
    static let names = [
        "policy", "trace", "agent", "replay", "cli", "sandbox", "sandbox-unprivileged", "model", "secrets", "tools",
        "corridor", "console", "scale",
    ]

    struct Options {
        var only = Main.names
        var repeats = 1
        var markdown = false
        var json = false
        var quick = false
        var variant = ""
        var repository = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        var thresholds: String?
        var airlock: URL?
        var python: String?
        var modelHome: URL?
        var scratch: URL?
    }

    static let usage = """
        usage: airlock-bench [--only NAME,...] [--repeat N] [--markdown | --json] [--quick]
                             [--repository DIR] [--thresholds FILE] [--airlock BIN] [--python BIN]
                             [--model-home DIR] [--scratch DIR]
          benchmarks: \(names.joined(separator: ", "))
        """

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = rest.popFirst() else { throw BenchError("\(flag) needs a value\n\(usage)") }
            return next
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--only":
                options.only = try value(argument).split(separator: ",").map(String.init)
                for name in options.only where !names.contains(name) {
                    throw BenchError("--only: unknown benchmark '\(name)' (one of \(names.joined(separator: ", ")))")
                }
            case "--repeat":
                guard let n = Int(try value(argument)), n > 0 else { throw BenchError("--repeat: a positive count") }
                options.repeats = n
            case "--markdown": options.markdown = true
            case "--json": options.json = true
            case "--quick": options.quick = true
            case "--variant": options.variant = try value(argument)
            case "--repository": options.repository = URL(fileURLWithPath: try value(argument))
            case "--thresholds": options.thresholds = try value(argument)
            case "--airlock": options.airlock = URL(fileURLWithPath: try value(argument))
            case "--python": options.python = try value(argument)
            case "--model-home": options.modelHome = URL(fileURLWithPath: try value(argument))
            case "--scratch": options.scratch = URL(fileURLWithPath: try value(argument))
            case "-h", "--help":
                print(usage)
                exit(0)
            default: throw BenchError("unknown argument '\(argument)'\n\(usage)")
            }
        }
        return options
    }

    static func main() async {
        let options: Options
        do {
            options = try parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            FileHandle.standardError.write(Data("airlock-bench: \(error)\n".utf8))
            exit(64)
        }
        let scratch =
            options.scratch ?? options.repository.appendingPathComponent(".build-bench/scratch", isDirectory: true)
        do {
            try FileManager.default.createDirectory(
                at: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        } catch {
            FileHandle.standardError.write(Data("airlock-bench: cannot create \(scratch.path): \(error)\n".utf8))
            exit(74)
        }
        let loadBefore = loadAverage()
        var collected: [(id: String, rows: [Row])] = []
        for round in 1...options.repeats {
            for name in options.only {
                progress("[\(round)/\(options.repeats)] \(name)")
                // What was written before (the build's 190 MB binary, the previous benchmark's
                // trace rows) is flushed first, so that its write-back does not land in this
                // benchmark's fsyncs.
                sync()
                let rows: [Row]
                do {
                    rows = try await run(name, options: options, scratch: scratch)
                } catch {
                    rows = [
                        Row(
                            id: "\(name).not-run", what: name, figure: .nan, unit: "", anchor: nil, anchorName: "—",
                            comparison: .none, note: "not run: \(error)")
                    ]
                }
                for row in rows {
                    if let index = collected.firstIndex(where: { $0.id == row.id }) {
                        collected[index].rows.append(row)
                    } else {
                        collected.append((row.id, [row]))
                    }
                }
            }
        }
        if options.json {
            let encoder = JSONEncoder()
            for (_, rows) in collected {
                for row in rows {
                    if let data = try? encoder.encode(row) { print(String(decoding: data, as: UTF8.self)) }
                }
            }
            return
        }
        let thresholdsPath =
            options.thresholds ?? options.repository.appendingPathComponent("Benchmarks/thresholds.json").path
        let thresholds: [String: Threshold]
        do {
            thresholds = try Threshold.load(thresholdsPath)
        } catch {
            FileHandle.standardError.write(Data("airlock-bench: cannot read \(thresholdsPath): \(error)\n".utf8))
            exit(66)
        }
        let table = Table(
            rows: collected.map(\.rows), thresholds: thresholds, repeats: options.repeats,
            machine:
                "\(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadBefore) before, \(loadAverage()) after"
        )
        print(options.markdown ? table.markdown() : table.text())
        exit(table.failures > 0 ? 1 : 0)
    }

    static func progress(_ line: String) {
        FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
    }

    /// The 1-minute load average, as `uptime` shows it.
    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?"
        return String(text.split(separator: " ").first ?? "?")
    }

    static func run(_ name: String, options: Options, scratch: URL) async throws -> [Row] {
        let quick = options.quick
        let anchors = options.repository.appendingPathComponent("Benchmarks/Anchors")
        switch name {
        case "policy":
            return try PolicyBench(
                rounds: quick ? 3 : 15, python: options.python,
                anchorScript: anchors.appendingPathComponent("cedar_anchor.py")
            ).run(scratch: scratch)
        case "trace":
            return try TraceBench(batchEvents: quick ? 1280 : 12_800, rounds: quick ? 2 : 5, singles: quick ? 100 : 600)
                .run(scratch: scratch)
        case "agent":
            return try await AgentBench(
                steps: quick ? 30 : 300, sandboxedSteps: quick ? 5 : 50, repository: options.repository
            ).run(scratch: scratch)
        case "replay":
            return try await ReplayBench(
                steps: quick ? 100 : 1000, rounds: quick ? 1 : 3, repository: options.repository
            )
            .run(scratch: scratch)
        case "console":
            return try await ConsoleBench(
                steps: quick ? 100 : 1000, runs: quick ? 1000 : 10_000, rounds: quick ? 1 : 3,
                repository: options.repository
            ).run(scratch: scratch)
        case "cli":
            return try CLIBench(airlock: options.airlock, runs: quick ? 10 : 100).run(scratch: scratch)
        case "sandbox":
            return try SandboxBench(
                runs: quick ? 20 : 200, throughputRuns: quick ? 20 : 300,
                variant: geteuid() == 0 ? options.variant : "unprivileged"
            ).run(scratch: scratch)
        case "sandbox-unprivileged":
            guard geteuid() == 0 else {
                throw BenchError("already unprivileged: the `sandbox` rows are this user's")
            }
            return try unprivileged(options: options)
        case "model":
            let home =
                options.modelHome
                ?? ProcessInfo.processInfo.environment["AIRLOCK_MODEL_HOME"].map { URL(fileURLWithPath: $0) }
                ?? URL(fileURLWithPath: "/var/lib/airlock/model")
            return try await ModelBench(modelHome: home, airlock: options.airlock, requests: quick ? 2 : 10)
                .run(scratch: scratch)
        case "secrets":
            return try SecretsBench(shortStrings: quick ? 10_000 : 100_000).run(scratch: scratch)
        case "tools":
            return try await ToolsBench(iterations: quick ? 200 : 2000, sandboxRuns: quick ? 5 : 20)
                .run(scratch: scratch)
        case "corridor":
            return try await CorridorBench(roundTrips: quick ? 500 : 2000, rounds: quick ? 1 : 3).run(scratch: scratch)
        case "scale":
            return try await ScaleBench(airlock: options.airlock, repository: options.repository, runs: quick ? 10 : 40)
                .run(scratch: scratch)
        default:
            throw BenchError("unknown benchmark \(name)")
        }
    }

    /// The sandbox benchmark as uid/gid 65534, from a copy of this binary every user can run,
    /// through `setpriv`; its rows come back as JSON.
    static func unprivileged(options: Options) throws -> [Row] {
        let setpriv = "/usr/bin/setpriv"
        guard FileManager.default.isExecutableFile(atPath: setpriv) else { throw BenchError("no \(setpriv)") }
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "airlock-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("airlock-bench")
        try FileManager.default.copyItem(
            at: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath(), to: copy)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy.path)
        let scratch = directory.appendingPathComponent("scratch")
        try FileManager.default.createDirectory(
            at: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        var argv = [
            setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", copy.path, "--json", "--only",
            "sandbox", "--variant", "unprivileged", "--scratch", scratch.path,
        ]
        if options.quick { argv.append("--quick") }
        let output = try Spawn.output(argv, environment: ["PATH": "/usr/bin:/bin", "HOME": scratch.path])
        let decoder = JSONDecoder()
        return try output.split(separator: "\n").map { try decoder.decode(Row.self, from: Data($0.utf8)) }
    }
}
