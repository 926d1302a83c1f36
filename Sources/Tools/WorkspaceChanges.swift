import AirlockCore
import Foundation

/// What one call did to its run's workspace: the entries it created, changed or removed, found
/// by listing the workspace just before the call and again just after it (``FileTree``: no link
/// is followed, paths are relative to the workspace), with each new or changed file's size and
/// SHA-256 and, for UTF-8 text within the caps, its content. `tool.executed` records it as
/// `workspace_changes`, so that a reviewer sees what a tool wrote as well as what it printed.
///
/// Every part is bounded (``Limits``); where a bound is reached the record says so (``cut`` for
/// the listing, ``FileChange/omitted`` for one file), it never stops the call.
public struct WorkspaceChanges: Sendable, Hashable {
    /// The bounds of one call's record.
    public struct Limits: Sendable, Hashable {
        /// The most entries one listing walks (default 10,000); past them changes are not known,
        /// and ``WorkspaceChanges/cut`` says so.
        public var maxEntries: Int
        /// The most directory levels below the workspace walked (default 32).
        public var maxDepth: Int
        /// The most changes recorded per call (default 500, by path order), so that `tool.executed`
        /// stays well inside the trace's event bound.
        public var maxListed: Int
        /// The most bytes hashed per call (default 64 MiB); files past it are recorded without a
        /// digest.
        public var maxHashedBytes: Int64
        /// The largest file whose content is recorded (default 64 KiB).
        public var maxContentBytes: Int
        /// The most content recorded per call, all files together (default 256 KiB).
        public var maxContentBytesPerCall: Int

        /// Creates limits.
        /// - Parameters:
        ///   - maxEntries: entries walked per listing (default 10,000).
        ///   - maxDepth: directory levels walked (default 32).
        ///   - maxListed: changes recorded per call (default 500).
        ///   - maxHashedBytes: bytes hashed per call (default 64 MiB).
        ///   - maxContentBytes: the largest file whose content is kept (default 64 KiB).
        ///   - maxContentBytesPerCall: content kept per call (default 256 KiB).
        public init(
            maxEntries: Int = 10_000, maxDepth: Int = 32, maxListed: Int = 500, maxHashedBytes: Int64 = 64 << 20,
            maxContentBytes: Int = 64 << 10, maxContentBytesPerCall: Int = 256 << 10
        ) {
            self.maxEntries = maxEntries
            self.maxDepth = maxDepth
            self.maxListed = maxListed
            self.maxHashedBytes = maxHashedBytes
            self.maxContentBytes = maxContentBytes
            self.maxContentBytesPerCall = maxContentBytesPerCall
        }
    }

    /// The workspace as listed before a call.
    public struct Snapshot: Sendable, Hashable {
        /// The workspace directory (links in its own path resolved, none below it followed).
        public var root: String
        /// The listing, or `nil` when the workspace could not be listed.
        public var listing: FileTree.Listing?
        /// Why it could not be listed.
        public var problem: String?
    }

    /// The changes, in path order.
    public var changes: [FileChange]
    /// Why the changes may be incomplete (a listing was cut or failed, more changes than
    /// ``Limits/maxListed``), or `nil`.
    public var cut: String?

    /// Creates a record.
    public init(changes: [FileChange], cut: String? = nil) {
        self.changes = changes
        self.cut = cut
    }

    /// Lists `workspace` before a call.
    public static func snapshot(of workspace: URL, limits: Limits = Limits()) -> Snapshot {
        let root = workspace.resolvingSymlinksInPath().path
        do {
            return Snapshot(
                root: root, listing: try FileTree.list(root, maxEntries: limits.maxEntries, maxDepth: limits.maxDepth))
        } catch {
            return Snapshot(root: root, listing: nil, problem: "\(error)")
        }
    }

    /// What changed since `before`: the workspace is listed again and compared entry by entry
    /// (kind, size, modification and status-change times, inode, permissions); each created or
    /// modified file is read once for its digest and, within the caps, its content.
    public static func since(_ before: Snapshot, limits: Limits = Limits()) -> WorkspaceChanges {
        guard let old = before.listing else {
            return WorkspaceChanges(
                changes: [], cut: "the workspace could not be listed before the call: \(before.problem ?? "?")")
        }
        let new: FileTree.Listing
        do {
            new = try FileTree.list(before.root, maxEntries: limits.maxEntries, maxDepth: limits.maxDepth)
        } catch {
            return WorkspaceChanges(changes: [], cut: "the workspace could not be listed after the call: \(error)")
        }
        var cuts: [String] = []
        if let cut = old.cut { cuts.append("before the call: \(cut)") }
        if let cut = new.cut { cuts.append("after the call: \(cut)") }

        var previous: [[UInt8]: FileTree.Entry] = [:]
        for entry in old.entries { previous[entry.key] = entry }
        var found: [(key: [UInt8], change: FileChange.Change, entry: FileTree.Entry)] = []
        for entry in new.entries {
            guard let was = previous.removeValue(forKey: entry.key) else {
                found.append((entry.key, .created, entry))
                continue
            }
            // A directory whose entries changed changes itself; its entries say what happened.
            if entry.kind == .directory, was.kind == .directory { continue }
            if entry.kind != was.kind || entry.size != was.size || entry.modified != was.modified
                || entry.changed != was.changed || entry.inode != was.inode || entry.permissions != was.permissions
            {
                found.append((entry.key, .modified, entry))
            }
        }
        // An entry the second listing did not reach may still be there: removals are only
        // known from a listing that was not cut.
        if new.cut == nil {
            for (key, entry) in previous { found.append((key, .removed, entry)) }
        }
        found.sort { $0.key.lexicographicallyPrecedes($1.key) }
        if found.count > limits.maxListed {
            cuts.append(
                "\(found.count) changes; the first \(limits.maxListed) by path are listed (at most \(limits.maxListed) per call)"
            )
            found.removeLast(found.count - limits.maxListed)
        }

        var hashed: Int64 = 0
        var contentBytes = 0
        let changes = found.map { key, change, entry -> FileChange in
            var record = FileChange(path: entry.path, kind: entry.kind, change: change)
            switch (entry.kind, change) {
            case (.file, .removed):
                record.bytes = entry.size
            case (.file, _):
                record.bytes = entry.size
                guard hashed + entry.size <= limits.maxHashedBytes else {
                    record.omitted = "digest and content: past the call's \(limits.maxHashedBytes) bytes hashed"
                    break
                }
                let keep = min(limits.maxContentBytes, limits.maxContentBytesPerCall - contentBytes)
                do {
                    let contents = try FileTree.read(before.root, entry.components, keep: keep)
                    hashed += contents.bytes
                    record.bytes = contents.bytes
                    record.sha256 = contents.sha256
                    if let kept = contents.kept, let text = String(validating: kept, as: UTF8.self) {
                        record.content = text
                        contentBytes += kept.count
                    } else if contents.kept != nil {
                        record.omitted = "content: not UTF-8 text (the digest identifies it)"
                    } else if contents.bytes > Int64(limits.maxContentBytes) {
                        record.omitted = "content: larger than \(limits.maxContentBytes) bytes"
                    } else {
                        record.omitted =
                            "content: the call's \(limits.maxContentBytesPerCall) bytes of content are spent"
                    }
                } catch {
                    record.omitted = "digest and content: unreadable (\(error))"
                }
            case (.symlink, .created), (.symlink, .modified):
                record.target = FileTree.linkTarget(before.root, entry.components).map { FileTree.display([$0]) }
            default:
                break
            }
            return record
        }
        return WorkspaceChanges(changes: changes, cut: cuts.isEmpty ? nil : cuts.joined(separator: "; "))
    }
}
