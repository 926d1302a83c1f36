import AirlockCore
import Foundation

/// A run's hold on its workspace: the directory, and, for a workspace under the home's
/// `workspaces/`, the exclusive lock on `run/workspaces/NAME.lock` that tells
/// `airlock workspaces prune` (and `list`, and another run asking for the same `--workspace`)
/// that a run is using it.
///
/// The lock belongs to the open file, so it ends with the lease (or with the process, however it
/// ends: a killed run never leaves its workspace locked).
public final class WorkspaceLease: Sendable {
    /// The workspace directory.
    public let url: URL
    /// Its name under the home's `workspaces/`, or `nil` for a directory elsewhere (`--workspace`
    /// outside the home), which nothing prunes and so nothing locks.
    public let name: String?
    private let lock: FileLock?

    init(url: URL, name: String?, lock: FileLock?) {
        self.url = url
        self.name = name
        self.lock = lock
    }

    deinit { lock?.release() }
}
