import Foundation
import Sandbox
import Secrets

#if canImport(Glibc)
    import Glibc
#endif

/// The secrets of one call, made available to its sandbox: files (0400, owned by the sandbox's
/// host user) in a 0700 per-call directory on a tmpfs, bound read-only at `/run/secrets/NAME`,
/// and the environment variables a manifest opted into. ``remove()`` deletes the files when the
/// call ends, whatever its outcome.
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
                        cause: error.description,
                        threats: ["nhi:02"])
                }
                if case .environment(let variable) = declaration.delivery {
                    environment[variable] = String(decoding: value, as: UTF8.self)
                } else {
                    let file = try fileDirectory(root: root, owner: owner, tool: tool).appendingPathComponent(
                        declaration.name)
                    try Self.write(value, to: file.path, owner: owner, tool: tool)
                    mounts.append(BindMount(source: file.path, target: declaration.insidePath, writable: false))
                }
            }
        } catch {
            remove()
            throw error
        }
    }

    /// The per-call directory, created (0700, owned by the sandbox user) on first use.
    private mutating func fileDirectory(root: String, owner: (uid: UInt32, gid: UInt32), tool: String)
        throws(ToolsError) -> URL
    {
        if let directory { return directory }
        var template = Array((root + "/airlock-secrets-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ $0.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw ToolsError(
                .secretUnavailable, "\(tool): cannot create a per-call secrets directory under \(root)",
                cause: String(cString: strerror(errno)))
        }
        let path = String(cString: made)
        directory = URL(fileURLWithPath: path, isDirectory: true)
        guard chmod(path, 0o700) == 0, chown(path, owner.uid, owner.gid) == 0 else {
            throw ToolsError(
                .secretUnavailable, "\(tool): cannot hand \(path) to the sandbox user \(owner.uid):\(owner.gid)",
                cause: String(cString: strerror(errno)))
        }
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    /// Writes a file created 0400 and owned by the sandbox user.
    private static func write(_ value: [UInt8], to path: String, owner: (uid: UInt32, gid: UInt32), tool: String)
        throws(ToolsError)
    {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o400)
        var ok = fd >= 0
        var written = 0
        while ok && written < value.count {
            let n = value.withUnsafeBytes {
                Glibc.write(fd, $0.baseAddress.map { $0 + written }, value.count - written)
            }
            if n < 0 && errno == EINTR { continue }
            ok = n > 0
            written += max(n, 0)
        }
        ok = ok && fchown(fd, owner.uid, owner.gid) == 0
        let cause = String(cString: strerror(errno))
        if fd >= 0 { close(fd) }
        guard ok else {
            throw ToolsError(.secretUnavailable, "\(tool): cannot write the secret file \(path)", cause: cause)
        }
    }

    /// Deletes the per-call directory and its files.
    func remove() {
        guard let directory else { return }
        try? FileManager.default.removeItem(at: directory)
    }
}
