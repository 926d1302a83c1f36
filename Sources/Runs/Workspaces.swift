import AirlockCore
import Foundation
import Trace

/// The workspaces of a home (`AIRLOCK_HOME/workspaces/NAME`): listing them with the runs that
/// used them, showing one's files with their digests, and pruning the ones no run is using.
///
/// Only directories directly under `workspaces/` are workspaces; a link or a file there is never
/// followed or removed, and nothing below a workspace is followed either (``FileTree``). A
/// workspace is in use while a run (or `tools test`, or `replay --reexecute`) holds its lock
/// (``WorkspaceLease``); a run that was killed holds nothing, so its workspace can be pruned.
/// Which runs used a workspace comes from the trace (each `run.started` records its workspace),
/// unverified: it is a listing, not evidence.
public struct Workspaces: Sendable {
    /// The home.
    public let home: AirlockHome

    /// The most workspaces one listing of `workspaces/` reads (100,000).
    public static let maxWorkspaces = 100_000
    /// The most entries counted per workspace for `list`'s size and file count (100,000); past
    /// it the counts are a lower bound and say so.
    public static let maxCountedEntries = 100_000
    /// The most directory levels below a workspace walked by `list` and `show` (64).
    public static let maxDepth = 64
    /// The most entries `show` lists (10,000).
    public static let maxShownEntries = 10_000
    /// The most bytes `show` hashes (1 GiB); files past it are shown without a digest.
    public static let maxShownHashedBytes: Int64 = 1 << 30
    /// The most directory levels `prune` removes below a workspace (256); a deeper one is left
    /// in place and reported.
    public static let maxRemovalDepth = 256
    /// How long a run waits for a workspace's lock held by someone else before it refuses (2 s):
    /// `list` and a dry-run `prune` hold it for an instant to see whether a run holds it.
    public static let claimWaitSeconds = 2.0

    /// One run that used a workspace, as the trace lists it.
    public struct Use: Sendable, Hashable {
        /// The run id.
        public var runID: String
        /// When it started, nanoseconds since 1970.
        public var startedAt: Int64
        /// `finished:STATUS`, or `nil` while the trace holds no `run.finished` (running, or killed).
        public var status: String?
    }

    /// One workspace.
    public struct Summary: Sendable, Hashable {
        /// Its name under `workspaces/`.
        public var name: String
        /// Its directory.
        public var url: URL
        /// When it was created (the time in an Airlock-made name, else the directory's birth time,
        /// else its last modification).
        public var created: Date
        /// The runs that used it, oldest first.
        public var uses: [Use]
        /// Whether a run holds it now.
        public var inUse: Bool
        /// The bytes of its regular files.
        public var bytes: Int64
        /// How many regular files it holds.
        public var files: Int
        /// Why the counts are a lower bound, if they are.
        public var cut: String?

        /// The latest of its creation and the start of the last run that used it: what
        /// `prune --older-than` measures its age from.
        public var lastUsed: Date {
            let started = uses.map { Date(timeIntervalSince1970: Double($0.startedAt) / 1e9) }.max() ?? created
            return max(created, started)
        }
    }

    /// One entry of a workspace as `show` lists it.
    public struct Entry: Sendable, Hashable {
        /// The path relative to the workspace.
        public var path: String
        /// What it is.
        public var kind: FileTree.Kind
        /// A file's size.
        public var bytes: Int64?
        /// A file's SHA-256, unless ``omitted`` says why not.
        public var sha256: String?
        /// A link's target (never followed).
        public var target: String?
        /// Why a file has no digest.
        public var omitted: String?
    }

    /// One workspace's files.
    public struct Detail: Sendable, Hashable {
        /// The workspace.
        public var summary: Summary
        /// Its entries in path order.
        public var entries: [Entry]
        /// Why entries may be missing, if they may.
        public var cut: String?
    }

    /// What `prune` did (or, dry, would do).
    public struct PruneOutcome: Sendable, Hashable {
        /// A workspace that could not be removed (wholly), with why.
        public struct Failure: Sendable, Hashable {
            /// The workspace.
            public var summary: Summary
            /// Why, naming the step and the path.
            public var reason: String
        }

        /// The workspaces removed (or that would be).
        public var removed: [Summary] = []
        /// The workspaces a run holds: never removed.
        public var inUse: [Summary] = []
        /// The workspaces newer than `--older-than`.
        public var newer: [Summary] = []
        /// The workspaces that could not be removed (wholly).
        public var failed: [Failure] = []
    }

    /// The workspaces of `home`.
    public init(home: AirlockHome) {
        self.home = home
    }

    /// The workspaces directory with the links in its own path resolved (a site may keep
    /// workspaces on another disk through a link it made); nothing below it is ever followed.
    public var directory: URL { home.workspaces.resolvingSymlinksInPath() }

    /// The name of the workspace `url` is in (the first component below `workspaces/`), or `nil`
    /// when it is not below the home's `workspaces/`.
    public func name(of url: URL) -> String? {
        let bases = Set([home.workspaces.standardizedFileURL.path, home.workspaces.resolvingSymlinksInPath().path])
        for path in [url.standardizedFileURL.path, url.resolvingSymlinksInPath().path] {
            for base in bases {
                let prefix = base.hasSuffix("/") ? base : base + "/"
                guard path.hasPrefix(prefix) else { continue }
                if let first = path.dropFirst(prefix.count).split(separator: "/").first { return String(first) }
            }
        }
        return nil
    }

    /// The lock file of workspace `name`.
    func lockPath(_ name: String) -> String { home.workspaceLocks.appendingPathComponent(name + ".lock").path }

    /// Takes workspace `name`'s lock, waiting up to ``claimWaitSeconds`` for a holder that only
    /// looks (`list`); a lock file a prune removed meanwhile is locked afresh.
    /// - Throws: ``RunsError`` `usage` when a run or a prune holds it, `state` when it cannot be locked.
    func lock(_ name: String) throws(RunsError) -> FileLock {
        do {
            try FileManager.default.createDirectory(at: home.runDirectory, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(
                at: home.workspaceLocks, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw RunsError(.state, "cannot create \(home.workspaceLocks.path)", cause: error)
        }
        let path = lockPath(name)
        let deadline = Date().addingTimeInterval(Self.claimWaitSeconds)
        while true {
            do {
                let lock = try FileLock(path: path, wait: false)
                if lock.isStill(at: path) { return lock }
                lock.release()
            } catch {
                guard error.isHeld else {
                    throw RunsError(
                        .state, "cannot lock the workspace \(name) (\(error.stage) \(error.path)): \(error.reason)")
                }
                guard Date() < deadline else {
                    throw RunsError(
                        .usage,
                        "the workspace \(name) is in use by another run (or being pruned); give the run another --workspace"
                    )
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    /// Whether a run holds workspace `name` now (found without creating its lock file).
    public func isInUse(_ name: String) -> Bool { FileLock.isHeld(path: lockPath(name)) }

    /// The names of the workspaces: the directories directly under `workspaces/`, sorted.
    /// - Throws: ``RunsError`` `state` when `workspaces/` cannot be read (or is not a directory).
    public func names() throws(RunsError) -> [String] {
        guard (try? FileManager.default.attributesOfItem(atPath: directory.path)) != nil else { return [] }
        let listing: FileTree.Listing
        do {
            listing = try FileTree.list(directory.path, maxEntries: Self.maxWorkspaces, maxDepth: 0)
        } catch {
            throw RunsError(.state, "cannot read the workspaces directory: \(error)")
        }
        // A name that is not UTF-8 was not made by Airlock and cannot be named back: left alone.
        return listing.entries.filter { $0.kind == .directory }
            .compactMap { $0.components.first.flatMap { String(validating: $0, as: UTF8.self) } }.sorted()
    }

    /// Which runs used which workspace, by workspace name, from `store`'s `run.started` events.
    /// - Throws: ``RunsError`` `state` when the trace cannot be read.
    public func uses(in store: TraceStore) throws(RunsError) -> [String: [Use]] {
        let runs: [TraceRunSummary]
        let first: [TraceStoredEvent]
        do {
            runs = try store.runs()
            first = try store.firstEvents()
        } catch {
            throw RunsError(.state, "the trace \(store.path) cannot be read", cause: error)
        }
        var byID: [String: TraceRunSummary] = [:]
        for run in runs { byID[run.runID] = run }
        var out: [String: [Use]] = [:]
        for event in first where event.type == TraceEventType.runStarted.rawValue {
            guard let path = (try? event.payload())?["context"]?["workspace"]?.stringValue,
                let name = name(of: URL(fileURLWithPath: path, isDirectory: true))
            else { continue }
            let summary = byID[event.runID]
            out[name, default: []].append(
                Use(
                    runID: event.runID, startedAt: summary?.startedAt ?? event.time,
                    status: summary?.finishedStatus.map { "finished:\($0)" }))
        }
        return out
    }

    /// The home's trace, or `nil` when there is none yet. Opened as `trace list` opens it: the
    /// first run of a home may be creating its schema at this very moment, which a read-only
    /// connection would see half made.
    /// - Throws: ``RunsError`` `state` when it exists and cannot be opened.
    public func trace() throws(RunsError) -> TraceStore? {
        guard FileManager.default.fileExists(atPath: home.traceDatabase.path) else { return nil }
        do {
            return try TraceStore(path: home.traceDatabase.path)
        } catch {
            throw RunsError(.state, "the trace in \(home.root.path) cannot be used", cause: error)
        }
    }

    /// Every workspace with its runs, size and file count.
    /// - Throws: ``RunsError`` `state` when `workspaces/` or the trace cannot be read.
    public func list(uses: [String: [Use]]) throws(RunsError) -> [Summary] {
        try names().map { summary($0, uses: uses[$0] ?? []) }
    }

    /// One workspace's summary.
    func summary(_ name: String, uses: [Use]) -> Summary {
        let url = directory.appendingPathComponent(name, isDirectory: true)
        var bytes: Int64 = 0
        var files = 0
        var cut: String?
        do {
            let listing = try FileTree.list(url.path, maxEntries: Self.maxCountedEntries, maxDepth: Self.maxDepth)
            for entry in listing.entries where entry.kind == .file {
                bytes += entry.size
                files += 1
            }
            cut = listing.cut
        } catch {
            cut = "\(error)"
        }
        return Summary(
            name: name, url: url, created: created(url, name: name), uses: uses.sorted { $0.startedAt < $1.startedAt },
            inUse: isInUse(name), bytes: bytes, files: files, cut: cut)
    }

    /// When `url` was created: the seconds in an Airlock-made name (`PREFIX-SECONDS-ID`, given
    /// when Airlock created it), else its birth time, else its last modification.
    func created(_ url: URL, name: String) -> Date {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 3, parts[1].allSatisfy(\.isASCII), let seconds = Int64(parts[1]),
            parts[2].count == 8, parts[2].allSatisfy(\.isHexDigit)
        {
            return Date(timeIntervalSince1970: Double(seconds))
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        if let birth = attributes?[.creationDate] as? Date, birth.timeIntervalSince1970 > 0 { return birth }
        return attributes?[.modificationDate] as? Date ?? Date(timeIntervalSince1970: 0)
    }

    /// The workspace `reference` names: a workspace name, else a run id whose run used one.
    /// - Throws: ``RunsError`` `not-found` when it is neither, or the run's workspace is gone or
    ///   not under this home's `workspaces/`.
    public func resolve(_ reference: String, uses: [String: [Use]]) throws(RunsError) -> String {
        if !reference.contains("/"), reference != ".", reference != "..",
            FileTree.isDirectory(directory.appendingPathComponent(reference).path)
        {
            return reference
        }
        guard let name = uses.first(where: { $0.value.contains { $0.runID == reference } })?.key else {
            throw RunsError(
                .notFound,
                "no workspace or run \(reference) in \(home.root.path), or the run's workspace is not under \(home.workspaces.path) (see: airlock workspaces list)"
            )
        }
        guard FileTree.isDirectory(directory.appendingPathComponent(name).path) else {
            throw RunsError(.notFound, "run \(reference)'s workspace \(name) no longer exists (pruned?)")
        }
        return name
    }

    /// A workspace's entries, each file with its size and SHA-256.
    /// - Throws: ``RunsError`` `not-found` when there is no such workspace, `state` when it cannot be read.
    public func show(_ name: String, uses: [Use]) throws(RunsError) -> Detail {
        let summary = summary(name, uses: uses)
        guard FileTree.isDirectory(summary.url.path) else {
            throw RunsError(.notFound, "no workspace \(name) in \(home.workspaces.path) (see: airlock workspaces list)")
        }
        let listing: FileTree.Listing
        do {
            listing = try FileTree.list(summary.url.path, maxEntries: Self.maxShownEntries, maxDepth: Self.maxDepth)
        } catch {
            throw RunsError(.state, "cannot read the workspace: \(error)")
        }
        var hashed: Int64 = 0
        let entries = listing.entries.map { entry -> Entry in
            var out = Entry(path: entry.path, kind: entry.kind)
            switch entry.kind {
            case .file:
                out.bytes = entry.size
                guard hashed + entry.size <= Self.maxShownHashedBytes else {
                    out.omitted = "past the \(Self.maxShownHashedBytes) bytes hashed per show"
                    break
                }
                do {
                    let contents = try FileTree.read(summary.url.path, entry.components, keep: 0)
                    hashed += contents.bytes
                    out.bytes = contents.bytes
                    out.sha256 = contents.sha256
                } catch {
                    out.omitted = "unreadable (\(error))"
                }
            case .symlink:
                out.target = FileTree.linkTarget(summary.url.path, entry.components).map { FileTree.display([$0]) }
            case .directory, .other:
                break
            }
            return out
        }
        return Detail(summary: summary, entries: entries, cut: listing.cut)
    }

    /// Removes a workspace its holder is done with (`replay --reexecute`'s scratch one) and its lock
    /// file, while the lease still holds the lock; like `prune`, without following any link.
    /// - Throws: ``RunsError`` `state` naming the step and the path that failed.
    public func discard(_ lease: WorkspaceLease) throws(RunsError) {
        let url = lease.url.standardizedFileURL
        do {
            try FileTree.remove(
                Array(url.lastPathComponent.utf8), in: url.deletingLastPathComponent().path,
                maxDepth: Self.maxRemovalDepth)
        } catch {
            throw RunsError(.state, "cannot remove the workspace \(url.path): \(error)")
        }
        if let name = lease.name { try? FileManager.default.removeItem(atPath: lockPath(name)) }
        withExtendedLifetime(lease) {}
    }

    /// Removes every workspace no run holds (and, with `olderThan`, that was last used longer ago
    /// than that). A workspace is locked while it is removed, so no run can start in it meanwhile;
    /// its lock file goes with it.
    /// - Parameters:
    ///   - olderThan: seconds; only workspaces last used (``Summary/lastUsed``) before `now` minus
    ///     this are removed (default: every one).
    ///   - now: the time ages are measured at.
    ///   - dryRun: remove nothing; say what would be removed.
    ///   - uses: which runs used which workspace.
    /// - Throws: ``RunsError`` `state` when `workspaces/` cannot be read.
    public func prune(olderThan: Double?, now: Date = Date(), dryRun: Bool, uses: [String: [Use]]) throws(RunsError)
        -> PruneOutcome
    {
        var outcome = PruneOutcome()
        for name in try names() {
            let summary = summary(name, uses: uses[name] ?? [])
            if let olderThan, now.timeIntervalSince(summary.lastUsed) < olderThan {
                outcome.newer.append(summary)
                continue
            }
            if dryRun {
                if summary.inUse { outcome.inUse.append(summary) } else { outcome.removed.append(summary) }
                continue
            }
            let lock: FileLock
            do {
                lock = try FileLock(path: lockPath(name), wait: false)
            } catch {
                if error.isHeld {
                    outcome.inUse.append(summary)
                } else {
                    outcome.failed.append(
                        .init(
                            summary: summary, reason: "cannot lock it (\(error.stage) \(error.path)): \(error.reason)"))
                }
                continue
            }
            defer { lock.release() }
            do {
                try FileTree.remove(Array(name.utf8), in: directory.path, maxDepth: Self.maxRemovalDepth)
                try? FileManager.default.removeItem(atPath: lockPath(name))
                outcome.removed.append(summary)
            } catch {
                outcome.failed.append(.init(summary: summary, reason: "\(error)"))
            }
        }
        if !dryRun { removeOrphanLocks() }
        return outcome
    }

    /// Removes the lock files whose workspace is gone (removed by hand) and that no one holds.
    func removeOrphanLocks() {
        let present = Set((try? names()) ?? [])
        let files = (try? FileManager.default.contentsOfDirectory(atPath: home.workspaceLocks.path)) ?? []
        for file in files where file.hasSuffix(".lock") {
            let name = String(file.dropLast(".lock".count))
            guard !present.contains(name), let lock = try? FileLock(path: lockPath(name), wait: false) else { continue }
            // Held now, and its workspace absent: no run can be using it.
            if lock.isStill(at: lockPath(name)) { try? FileManager.default.removeItem(atPath: lockPath(name)) }
            lock.release()
        }
    }
}
