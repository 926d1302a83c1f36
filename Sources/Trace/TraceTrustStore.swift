import AirlockCore
import Foundation

/// The keys a site or a review enclave trusts for trace checkpoints, besides its own:
/// `AIRLOCK_HOME/keys/trusted-keys.json`, a list of named Ed25519 public keys.
///
/// Verify, show, import, replay, review and doctor trust the local trace key and every key here
/// (unless `--key` names exactly the keys to trust). The file is written atomically with mode
/// 0644 in the 0700 keys directory; one writable by group or others is refused (`key-permissions`),
/// since whoever can add a key can make a forged run verify.
public struct TraceTrustStore: Sendable {
    /// One trusted key.
    public struct Entry: Sendable, Hashable, Codable {
        /// The name a person gave it (`site-a`); unique in the store.
        public var name: String
        /// `ed25519:` + 16 hex digits.
        public var keyID: String
        /// The public key, 64 hex digits.
        public var publicKey: String
        /// When it was added (ISO 8601, UTC).
        public var addedAt: String

        enum CodingKeys: String, CodingKey {
            case name
            case keyID = "key_id"
            case publicKey = "public_key"
            case addedAt = "added_at"
        }
    }

    /// The file's name inside the keys directory.
    public static let fileName = "trusted-keys.json"
    /// The longest name accepted.
    public static let maxNameLength = 64

    /// The store's file.
    public let url: URL

    /// Opens the store in a keys directory (nothing is read or created yet).
    public init(keysDirectory: URL) {
        url = keysDirectory.appendingPathComponent(Self.fileName)
    }

    /// The trusted keys, in the order added; none when the file does not exist.
    /// - Throws: ``TraceError`` `key-permissions` for a file others may write, `key-invalid` for
    ///   one that does not parse (naming the entry).
    public func entries() throws(TraceError) -> [Entry] {
        let fm = FileManager.default
        guard fm.fileExists(atPath: url.path) else { return [] }
        let mode = ((try? fm.attributesOfItem(atPath: url.path))?[.posixPermissions] as? NSNumber)?.intValue ?? 0
        guard mode & 0o022 == 0 else {
            throw TraceError(
                .keyPermissions,
                "\(url.path) has mode \(String(mode, radix: 8)): others could add a key; chmod 644 it after checking its keys"
            )
        }
        guard let data = fm.contents(atPath: url.path) else {
            throw TraceError(.keyInvalid, "cannot read \(url.path)")
        }
        let value: JSONValue
        do {
            value = try JSONParser().parse(Array(data))
        } catch {
            throw TraceError(.keyInvalid, "\(url.path): not valid JSON", cause: error)
        }
        let entries: [Entry]
        do {
            entries = try JSONValueDecoder().decode([Entry].self, from: value["keys"] ?? .null)
        } catch {
            throw TraceError(.keyInvalid, "\(url.path): /keys\(error.pointer): \(error.reason)")
        }
        for (index, entry) in entries.enumerated() {
            let key = try TracePublicKey(text: entry.publicKey)
            guard key.keyID == entry.keyID else {
                throw TraceError(
                    .keyInvalid, "\(url.path): /keys/\(index) (\(entry.name)): key_id does not match its public key")
            }
        }
        return entries
    }

    /// The trusted public keys.
    public func keys() throws(TraceError) -> [TracePublicKey] {
        var out: [TracePublicKey] = []
        for entry in try entries() { out.append(try TracePublicKey(text: entry.publicKey)) }
        return out
    }

    /// Trusts a key under a name.
    /// - Returns: the entry, and whether it was added (`false`: that key was already trusted).
    /// - Throws: ``TraceError`` `key-invalid` for a bad name or a name taken by another key.
    @discardableResult
    public func add(_ key: TracePublicKey, name: String) throws(TraceError) -> (entry: Entry, added: Bool) {
        guard !name.isEmpty, name.utf8.count <= Self.maxNameLength, RunRecorder.isPlainName(name) else {
            throw TraceError(
                .keyInvalid, "key name '\(name)' must be 1-\(Self.maxNameLength) characters of A-Z a-z 0-9 . _ -")
        }
        var entries = try entries()
        if let existing = entries.first(where: { $0.keyID == key.keyID }) { return (existing, false) }
        if let taken = entries.first(where: { $0.name == name }) {
            throw TraceError(.keyInvalid, "the name \(name) is already given to \(taken.keyID) (choose another --name)")
        }
        let formatter = ISO8601DateFormatter()
        let entry = Entry(
            name: name, keyID: key.keyID, publicKey: Hex.encode(key.raw), addedAt: formatter.string(from: Date()))
        entries.append(entry)
        try write(entries)
        return (entry, true)
    }

    /// Stops trusting a key, named by its name or key id.
    /// - Returns: the removed entry, or `nil` when none matched.
    @discardableResult
    public func remove(_ nameOrKeyID: String) throws(TraceError) -> Entry? {
        var entries = try entries()
        guard let index = entries.firstIndex(where: { $0.name == nameOrKeyID || $0.keyID == nameOrKeyID }) else {
            return nil
        }
        let removed = entries.remove(at: index)
        try write(entries)
        return removed
    }

    private func write(_ entries: [Entry]) throws(TraceError) {
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw TraceError(.storage, "cannot create \(directory.path)", cause: error)
        }
        let document: JSONValue = [
            "purpose": "airlock.trace.trusted-keys.v1",
            "keys": (try? JSONValueEncoder().encode(entries)) ?? [],
        ]
        do {
            try AtomicFile.replace(url.path, with: Array((document.prettyString + "\n").utf8), mode: 0o644)
        } catch {
            throw TraceError(.storage, "cannot write \(url.path): \(error.stage): \(error.reason)")
        }
    }
}
