import Foundation

/// Where a local server (the console, `mcp serve --http`) listens on a unix socket: the one way
/// its path is prepared, so that only the owner's processes can connect.
public enum SocketPath {
    /// Why the path cannot be listened on.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The path concerned (the socket or its directory).
        public let path: String
        /// What is wrong there.
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Makes the socket's directory (mode 0700 when created) and removes a stale socket left by an
    /// earlier server; anything else at the path is left alone and refused.
    public static func prepare(_ path: String) throws(Failure) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw Failure(
                path: directory, reason: "cannot create the socket's directory: \(error.localizedDescription)")
        }
        if let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType {
            guard type == .typeSocket else { throw Failure(path: path, reason: "exists and is not a socket") }
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Restricts a socket just bound to its owner (0600), or, when `shared`, lets every account
    /// that can reach its directory connect (0666): for a server that checks each connecting
    /// peer's credentials itself (the console's `console_peers:`).
    public static func restrict(_ path: String, shared: Bool = false) {
        try? FileManager.default.setAttributes([.posixPermissions: shared ? 0o666 : 0o600], ofItemAtPath: path)
    }
}
