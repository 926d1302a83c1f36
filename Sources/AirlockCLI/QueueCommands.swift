import AirlockCore
import ArgumentParser
import Foundation
import RunQueue
import Runs
import Trace
import TracePostgres

/// The site database the queue commands use, and their error reporting.
enum QueueCLI {
    /// `--database`, else `site.yaml` `trace:`; it must be a postgres:// URL.
    static func url(_ database: String?) throws -> PostgresURL {
        guard case .postgres(let url) = try TraceCLI.location(database) else {
            printError(
                "error: the queue lives in the site's PostgreSQL database: give --database postgres://… or set trace: in site.yaml"
            )
            throw ExitCode.usage
        }
        return url
    }

    /// Opens the queue.
    static func queue(_ database: String?) throws -> RunQueue {
        let url = try url(database)
        do {
            return RunQueue(session: try PostgresSession(url: url))
        } catch {
            throw CLI.fail(QueueError(.storage, error.description))
        }
    }

    /// One line per run.
    static func line(_ run: QueuedRun) -> String {
        let end = run.status.map { " \($0)" } ?? ""
        return [
            TraceListCommand.pad(run.runID, 38), TraceListCommand.pad(run.state + end, 26),
            TraceListCommand.pad("attempt \(run.attempt)", 10), run.worker ?? "-",
            URL(fileURLWithPath: run.workflow).lastPathComponent,
        ].joined(separator: " ")
    }
}

/// `airlock submit WORKFLOW [--param K=V]…`: enqueue a run for the site's workers.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Queue a run for the site's workers (docs/scale.md).",
        discussion: "Prints the run id. Exit codes: 0 queued, 1 the run id is taken, 64 bad usage, 74 the database.")

    @Argument(help: "The workflow file: the same path must hold the same file on every worker host.")
    var workflow: String
    @Option(name: .long, help: "A task parameter K=V; repeatable.") var param: [String] = []
    @Option(
        name: .long, help: "The model the worker uses (unix:PATH, http://HOST:PORT, script:FILE); default embedded.")
    var model: String?
    @Option(name: .long, help: "The run id (default a new UUID).") var runID: String?
    @Option(name: .long, help: "The site database (default: site.yaml trace:).") var database: String?

    func run() async throws {
        let parameters = try CLI.run { () throws(RunsError) in try RunRequest.parameters(param) }
        let queue = try QueueCLI.queue(database)
        let absolute = ToolsCLI.url(workflow).standardizedFileURL
        // A script's path is made absolute, as the workflow's is: workers start elsewhere.
        let modelText = model.map { text in
            text.hasPrefix("script:") && !text.dropFirst(7).hasPrefix("/")
                ? "script:" + ToolsCLI.url(String(text.dropFirst(7))).standardizedFileURL.path : text
        }
        let queued = try CLI.run { () throws(QueueError) in
            try queue.submit(
                workflow: absolute, parameters: parameters, model: modelText, principal: RunCommand.userName(),
                runID: runID)
        }
        print(queued.runID)
    }
}

/// `airlock worker`: claim and run queued runs on this host.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Claim and run queued runs; rescue runs whose worker stopped (docs/scale.md).",
        discussion: """
            Runs until SIGTERM/SIGINT, --max-runs, or (--exit-when-idle) an empty queue. Each run \
            is assembled from this host's AIRLOCK_HOME (tools, policy, site) and recorded in the \
            site database, every write fenced by the run's attempt number.
            Exit codes: 0 stopped, 64 bad usage, 74 the database or the home could not be used.
            """)

    @Option(name: .long, help: "The site database (default: site.yaml trace:).") var database: String?
    @Option(name: .long, help: "The worker's name (default HOST:PID).") var name: String?
    @Option(name: .long, help: "The lease, in seconds (a heartbeat every third of it).") var leaseSeconds = 30.0
    @Option(name: .long, help: "How often to look for work when idle, in seconds.") var pollSeconds = 0.5
    @Option(name: .long, help: "Stop after this many runs.") var maxRuns: Int?
    @Flag(name: .long, help: "Stop when nothing is queued or running.") var exitWhenIdle = false
    @Option(
        name: .long,
        help:
            "A trusted public key file for rescued runs' checkpoints; repeatable. Default: the local key and `trace trust` keys."
    )
    var key: [String] = []

    func validate() throws {
        guard leaseSeconds >= 0.3, leaseSeconds <= 3600 else { throw ValidationError("--lease-seconds: 0.3 to 3600") }
        guard pollSeconds > 0, pollSeconds <= 60 else { throw ValidationError("--poll-seconds: above 0, at most 60") }
        if let maxRuns, maxRuns < 1 { throw ValidationError("--max-runs: at least 1") }
    }

    func run() async throws {
        let (home, _) = try ToolsCLI.registry()
        let url = try QueueCLI.url(database)
        let signing = try TraceCLI.signingKey()
        let trusted = try TraceCLI.trustedKeys(key)
        let settings = RunWorker.Settings(
            name: name ?? RunWorker.Settings.defaultName, leaseMilliseconds: Int64(leaseSeconds * 1000),
            pollMilliseconds: Int64(pollSeconds * 1000), maxRuns: maxRuns, exitWhenIdle: exitWhenIdle)
        let worker = try CLI.run { () throws(QueueError) in
            try RunWorker(
                url: url, constructor: RunConstructor(home: home), key: signing, trustedKeys: trusted,
                settings: settings, log: { printError("worker \(settings.name): \($0)") })
        }
        let task = Task { () throws(QueueError) -> RunWorker.Tally in try await worker.run() }
        let signals = RunSignals(
            onFirst: { _ in
                printError("worker \(settings.name): stopping after the current run")
                task.cancel()
            },
            onSecond: { signal in RunSignals.exitNow(signal) })
        let tally: RunWorker.Tally
        do {
            tally = try await task.value
        } catch {
            throw CLI.fail(error as? QueueError ?? QueueError(.storage, "\(error)"))
        }
        withExtendedLifetime(signals) {}
        print(
            "worker \(settings.name): \(tally.ran) ran, \(tally.requeued) requeued, \(tally.abandoned) abandoned, \(tally.lost) lost"
        )
    }
}

/// `airlock runs list|show|cancel`: the queue.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List, show and cancel queued runs.",
        subcommands: [RunsListCommand.self, RunsShowCommand.self, RunsCancelCommand.self])
}

struct RunsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the queue, oldest first.")
    @Option(name: .long, help: "The site database (default: site.yaml trace:).") var database: String?
    @Option(name: .long, help: "Only runs in this state (queued, running, finished, abandoned, cancelled).")
    var state: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let state, !["queued", "running", "finished", "abandoned", "cancelled"].contains(state) {
            throw ValidationError("--state: queued, running, finished, abandoned or cancelled")
        }
    }

    func run() async throws {
        let queue = try QueueCLI.queue(database)
        let runs = try CLI.run { () throws(QueueError) in try queue.list(state: state) }
        if json {
            print(JSONValue.array(runs.map(RunsShowCommand.json)).prettyString)
            return
        }
        TraceCLI.print(runs.map(QueueCLI.line).joined(separator: "\n"))
    }
}

struct RunsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one queued run and its history.")
    @Option(name: .long, help: "The site database (default: site.yaml trace:).") var database: String?
    @Argument(help: "The run id.") var run: String
    @Flag(help: "Print JSON.") var json = false

    static func json(_ run: QueuedRun) -> JSONValue {
        [
            "run_id": .string(run.runID), "workflow": .string(run.workflow), "state": .string(run.state),
            "attempt": .integer(run.attempt), "worker": run.worker.map(JSONValue.string) ?? .null,
            "status": run.status.map(JSONValue.string) ?? .null, "reason": run.reason.map(JSONValue.string) ?? .null,
            "principal": .string(run.principal), "submitted_at": .string(run.submittedAt),
            "lease_until": run.leaseUntil.map(JSONValue.string) ?? .null,
            "parameters": .object(run.parameters.mapValues(JSONValue.string)),
            "cancel_requested": .bool(run.cancelRequested),
        ]
    }

    func run() async throws {
        let queue = try QueueCLI.queue(database)
        let (found, history) = try CLI.run { () throws(QueueError) in (try queue.show(run), try queue.history(run))
        }
        if json {
            var document = Self.json(found).objectValue ?? [:]
            document["history"] = .array(
                history.map { entry in
                    [
                        "at": .string(entry.at), "attempt": .integer(entry.attempt),
                        "worker": entry.worker.map(JSONValue.string) ?? .null, "kind": .string(entry.kind),
                        "detail": entry.detail.map(JSONValue.string) ?? .null,
                    ]
                })
            print(JSONValue.object(document).prettyString)
            return
        }
        var lines = [
            "run \(found.runID): \(found.state)\(found.status.map { " (\($0))" } ?? "")",
            "workflow: \(found.workflow)", "principal: \(found.principal)", "attempt: \(found.attempt)",
            "worker: \(found.worker ?? "-")",
        ]
        if let reason = found.reason { lines.append("reason: \(reason)") }
        lines.append("history:")
        for entry in history {
            lines.append(
                "  \(entry.at)  \(entry.kind)  attempt \(entry.attempt)  \(entry.worker ?? "-")\(entry.detail.map { "  \($0)" } ?? "")"
            )
        }
        TraceCLI.print(lines.joined(separator: "\n"))
    }
}

struct RunsCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a queued run, or ask a running one to stop.",
        discussion: "Exit codes: 0 cancelled or asked, 1 it already ended, 66 no such run, 74 the database.")
    @Option(name: .long, help: "The site database (default: site.yaml trace:).") var database: String?
    @Argument(help: "The run id.") var run: String

    func run() async throws {
        let queue = try QueueCLI.queue(database)
        let after = try CLI.run { () throws(QueueError) in try queue.cancel(run, by: RunCommand.userName()) }
        TraceCLI.print(
            after.state == "cancelled"
                ? "cancelled \(after.runID) (it had not started)"
                : "asked \(after.worker ?? "its worker") to stop \(after.runID); it ends cancelled at its next heartbeat"
        )
    }
}
