import AirlockCore
import ArgumentParser
import Foundation
import Sandbox

/// `airlock sandbox run [options] -- PROGRAM [ARGS...]`.
struct SandboxRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one program in a fresh sandbox and report how it ended.",
        discussion: """
            Exit code: the program's own when it ran, 128+N when killed by signal N (a timeout
            or OOM kill is SIGKILL: 137), 125 when the sandbox could not be set up, 64 for bad usage.
            """
    )

    @Option(
        name: .customLong("ro"),
        help: ArgumentHelp("Make a host path visible read-only (PATH or SRC:DST).", valueName: "PATH"))
    var readOnly: [String] = []

    @Option(
        name: .customLong("rw"),
        help: ArgumentHelp("Make a host path visible read-write (PATH or SRC:DST).", valueName: "PATH"))
    var readWrite: [String] = []

    @Option(
        help: ArgumentHelp(
            "A host directory bound read-write at the same path and used as the working directory.", valueName: "PATH"))
    var workdir: String?

    @Option(
        name: .customLong("env"),
        help: ArgumentHelp(
            "Set a variable in the program's environment (nothing of the host's is passed).", valueName: "K=V"))
    var environment: [String] = []

    @Option(help: "Wall-clock limit in seconds; the whole sandbox is killed when it passes.")
    var timeout: Double = SandboxLimits().wallTimeSeconds

    @Option(help: "CPU seconds per process (RLIMIT_CPU).")
    var cpu: Int?

    @Option(help: ArgumentHelp("Memory for the whole sandbox (64M, 1G).", valueName: "SIZE"))
    var memory: String?

    @Option(help: "Processes and threads in the whole sandbox.")
    var pids: Int = SandboxLimits().maxProcesses

    @Option(
        name: .customLong("output-limit"),
        help: ArgumentHelp(
            "Bytes of stdout and of stderr kept (64K, 1M); the rest is counted and dropped.", valueName: "BYTES"))
    var outputLimit: String?

    @Option(
        name: .customLong("file-size"), help: ArgumentHelp("Largest file the program may write.", valueName: "SIZE"))
    var fileSize: String?

    @Option(name: .customLong("open-files"), help: "Open file descriptors per process.")
    var openFiles: Int = SandboxLimits().openFiles

    @Option(name: .customLong("tmp-size"), help: ArgumentHelp("Size of the private /tmp.", valueName: "SIZE"))
    var tmpSize: String?

    @Option(help: ArgumentHelp("Read the program's stdin from this host file (default /dev/null).", valueName: "FILE"))
    var stdin: String?

    @Flag(help: "Make /dev/tty available.")
    var tty = false

    @Option(
        name: .customLong("allow-degraded"),
        help: ArgumentHelp(
            "Run without this layer if the host lacks it (landlock, cgroups, seccomp-notify); the record says so.",
            valueName: "LAYER"))
    var allowDegraded: [String] = []

    @Flag(help: "Print the execution record as JSON.")
    var json = false

    @Argument(parsing: .captureForPassthrough, help: "The program and its arguments (after --).")
    var command: [String] = []

    mutating func run() async throws {
        // Everything from the first argument the parser does not know is captured as the command,
        // so an option it does not know, or a late --help, arrives here rather than as an error.
        if let first = command.first, first != "--", first.hasPrefix("-") {
            if first == "--help" || first == "-h" { throw CleanExit.helpRequest(self) }
            printError(
                "airlock sandbox run: unknown option \(first) (options go before --, the program after it: "
                    + "airlock sandbox run [OPTIONS] -- PROGRAM [ARGS...]; see --help)")
            throw ExitCode.usage
        }
        let spec: SandboxSpec
        do {
            spec = try makeSpec()
        } catch let error as UsageError {
            printError("airlock sandbox run: \(error.message)")
            throw ExitCode.usage
        }
        let record: ExecutionRecord
        do {
            record = try await Sandbox().run(spec)
        } catch {
            printError("airlock sandbox run: \(error.message)")
            throw ExitCode(error.exitStatus)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(record)
            FileHandle.standardOutput.write(data)
            FileHandle.standardOutput.write(Data("\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(record.stdout.bytes))
            FileHandle.standardError.write(Data(record.stderr.bytes))
            for line in SandboxReport.summaryLines(record) { printError(line) }
        }
        let code = record.shellExitCode
        if code != 0 { throw ExitCode(code) }
    }

    private func makeSpec() throws -> SandboxSpec {
        var args = command
        if args.first == "--" { args.removeFirst() }
        guard let program = args.first else {
            throw UsageError("no program given (airlock sandbox run [OPTIONS] -- PROGRAM [ARGS...])")
        }
        var env: [String: String] = [:]
        for pair in environment {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw UsageError("--env \(pair): expected K=V")
            }
            env[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        if env["PATH"] == nil { env["PATH"] = SandboxSpec.defaultPath }
        var mounts = try readOnly.map { try Self.mount($0, writable: false, flag: "--ro") }
        mounts += try readWrite.map { try Self.mount($0, writable: true, flag: "--rw") }
        var workingDirectory = "/"
        if let workdir {
            let absolute = Self.absolute(workdir)
            mounts.append(BindMount(source: absolute, target: absolute, writable: true))
            workingDirectory = absolute
        }
        var limits = SandboxLimits()
        guard timeout > 0 else { throw UsageError("--timeout \(timeout): must be positive") }
        limits.wallTimeSeconds = timeout
        limits.cpuSeconds = cpu
        if let memory { limits.memoryBytes = try ByteSizeOption.parse(memory, flag: "--memory") }
        guard pids > 0 else { throw UsageError("--pids \(pids): must be positive") }
        limits.maxProcesses = pids
        if let outputLimit {
            limits.outputBytesPerStream = Int(try ByteSizeOption.parse(outputLimit, flag: "--output-limit"))
        }
        if let fileSize { limits.fileSizeBytes = try ByteSizeOption.parse(fileSize, flag: "--file-size") }
        if let tmpSize { limits.tmpSizeBytes = try ByteSizeOption.parse(tmpSize, flag: "--tmp-size") }
        limits.openFiles = openFiles
        let degraded = try DegradableLayers.parse(allowDegraded)
        return SandboxSpec(
            program: program, arguments: Array(args.dropFirst()), environment: env, mounts: mounts,
            workingDirectory: workingDirectory, stdin: stdin.map { .file(Self.absolute($0)) } ?? .null,
            limits: limits, allowTTY: tty, allowDegraded: degraded)
    }

    private static func mount(_ value: String, writable: Bool, flag: String) throws -> BindMount {
        let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
        guard let first = parts.first, !first.isEmpty else {
            throw UsageError("\(flag) \(value): expected PATH or SRC:DST")
        }
        let source = absolute(first)
        let target = parts.count == 2 ? parts[1] : source
        guard target.hasPrefix("/") else { throw UsageError("\(flag) \(value): the target must be absolute") }
        return BindMount(source: source, target: target, writable: writable)
    }

    private static func absolute(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.standardizedFileURL.path
    }
}

/// A usage mistake, reported with exit code 64.
struct UsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// `--allow-degraded` values: the layers a caller may run without (never the user namespace or
/// seccomp itself, which every run needs).
enum DegradableLayers {
    static func parse(_ names: [String]) throws -> Set<ConfinementLayer> {
        var layers: Set<ConfinementLayer> = []
        for name in names {
            guard let layer = ConfinementLayer(rawValue: name), layer != .userNamespace, layer != .seccomp else {
                throw UsageError("--allow-degraded \(name): expected one of landlock, cgroups, seccomp-notify")
            }
            layers.insert(layer)
        }
        return layers
    }
}

/// Sizes on the command line, in the one grammar manifests use too (``AirlockCore/ByteSize``).
enum ByteSizeOption {
    static func parse(_ text: String, flag: String) throws -> UInt64 {
        guard let bytes = ByteSize.parse(text), bytes > 0 else {
            throw UsageError("\(flag) \(text): expected a size such as 4096, 64K, 64MiB or 1G (powers of 1024)")
        }
        return bytes
    }
}
