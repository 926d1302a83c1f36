import AirlockCore
import Foundation
import Sandbox
import Secrets

#if canImport(Glibc)
    import Glibc
#endif

/// The secrets of one call, made available to its sandbox: files (0400, owned by the sandbox's
/// host user, created with that mode) under unguessable names in a per-call directory on a tmpfs,
/// bound read-only at `/run/secrets/NAME`, and the environment variables a manifest opted into.
/// ``remove()`` deletes the files when the call ends, whatever its outcome.
///
/// The directory belongs to Airlock's own user and is 0711: the sandbox can pass through it to the
/// one file it binds, but nobody can list it. When Airlock runs as root the sandbox user is host
/// uid 65534, which other daemons may share, so the file names are random as well: passing through
/// the directory is no use without the name.
struct SecretMaterial {
    /// The per-call directory, or `nil` when the call has no file or token secrets.
    private(set) var directory: URL?
    /// Binds to add to the spec.
    private(set) var mounts: [BindMount] = []
    /// Variables to add to the environment.
    private(set) var environment: [String: String] = [:]

    /// Fetches every declared secret and lays it out for the sandbox.
    /// - Parameters:
    ///   - root: a tmpfs directory for the per-call directory (`/dev/shm`).
    ///   - owner: the sandbox's host uid and gid.
    ///   - deliver: `false` for a stand-in sandbox that runs nothing: each secret is only checked
    ///     to exist (and not at all without a broker); nothing is written or marked used.
    /// - Throws: ``ToolsError`` `secret-unavailable` naming the secret and the tool; nothing is left behind.
    init(
        _ declarations: [SecretDeclaration], tool: String, broker: SecretBroker?, call: ToolCallIdentity?,
        root: String, owner: (uid: UInt32, gid: UInt32), deliver: Bool = true
    ) throws(ToolsError) {
        guard !declarations.isEmpty, deliver || broker != nil else { return }
        guard let broker else {
            throw ToolsError(
                .secretUnavailable,
                "\(tool) declares secrets (\(declarations.map(\.name).joined(separator: ", "))) and this run has no "
                    + "secret store; nothing ran", threats: ["nhi:02"])
        }
        do throws(ToolsError) {
            for declaration in declarations {
                let value: [UInt8]
                do {
                    if !deliver {
                        _ = try broker.store.value(of: declaration.name)
                        continue
                    }
                    switch declaration.delivery {
                    case .file, .environment: value = try broker.value(for: declaration.name)
                    case .token(let audience, let ttl):
                        value = Array(
                            try broker.token(
                                for: declaration.name, runID: call?.runID ?? "none", tool: tool,
                                argumentsDigest: call?.argumentsDigest ?? "none", audience: audience, ttlSeconds: ttl
                            ).utf8)
                    }
                } catch {
                    throw ToolsError(
                        .secretUnavailable,
                        "\(tool): secret \(declaration.name) could not be delivered; nothing ran",
                        cause: error,
                        threats: ["nhi:02"])
                }
                if case .environment(let variable) = declaration.delivery {
                    environment[variable] = String(decoding: value, as: UTF8.self)
                } else {
                    let file = try fileDirectory(root: root, tool: tool).appendingPathComponent(
                        UUID().uuidString.lowercased())
                    try Self.write(value, to: file.path, owner: owner, tool: tool)
                    mounts.append(BindMount(source: file.path, target: declaration.insidePath, writable: false))
                }
            }
        } catch {
            remove()
            throw error
        }
    }

    /// The per-call directory, created (0711, owned by Airlock's user) on first use.
    private mutating func fileDirectory(root: String, tool: String) throws(ToolsError) -> URL {
        if let directory { return directory }
        let url = URL(fileURLWithPath: root, isDirectory: true).appendingPathComponent(
            "airlock-secrets-\(UUID().uuidString.lowercased())", isDirectory: true)
        // Not intermediate: the name is new, and an existing one is an error, never reused.
        guard mkdir(url.path, 0o711) == 0, chmod(url.path, 0o711) == 0 else {
            throw ToolsError(
                .secretUnavailable, "\(tool): cannot create a per-call secrets directory under \(root)",
                cause: SystemError())
        }
        directory = url
        return url
    }

    /// Writes a file created with mode 0400 (never readable by others, not even for an instant)
    /// and given to the sandbox user, inside the per-call directory.
    private static func write(_ value: [UInt8], to path: String, owner: (uid: UInt32, gid: UInt32), tool: String)
        throws(ToolsError)
    {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o400)
        guard fd >= 0 else {
            throw ToolsError(
                .secretUnavailable, "\(tool): cannot write the secret file \(path)",
                cause: SystemError())
        }
        defer { close(fd) }
        guard fchown(fd, owner.uid, owner.gid) == 0 || (owner.uid == geteuid() && owner.gid == getegid()) else {
            throw ToolsError(
                .secretUnavailable, "\(tool): cannot give the secret file \(path) to the sandbox user \(owner.uid)",
                cause: SystemError())
        }
        if let code = AtomicFile.writeAll(value, to: fd) {
            throw ToolsError(
                .secretUnavailable, "\(tool): cannot write the secret file \(path)",
                cause: SystemError(code))
        }
    }

    /// Deletes the per-call directory and its files.
    func remove() {
        guard let directory else { return }
        try? FileManager.default.removeItem(at: directory)
    }
}
