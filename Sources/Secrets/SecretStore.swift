import AirlockCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The local secret store: `AIRLOCK_HOME/secrets/store.sealed` (directory 0700, file 0600),
/// sealed with AES-256-GCM under `AIRLOCK_HOME/keys/secrets.key`, a key used for nothing else.
///
/// Each value is sealed on its own (a fresh nonce, associated data binding name and version) and
/// the whole document, metadata included, is sealed again, so any changed byte fails
/// authentication. Every change rewrites the file atomically under an exclusive lock.
public struct SecretStore: Sendable {
    /// `AIRLOCK_HOME/secrets`.
    public let directory: URL
    /// `AIRLOCK_HOME/keys/secrets.key`.
    public let keyURL: URL
    /// The shortest value accepted, in bytes: shorter ones could not be redacted safely (they
    /// occur by chance in ordinary text). Default 6.
    public var minimumValueBytes: Int
    /// The largest value accepted, in bytes. Default 64 KiB.
    public var maximumValueBytes: Int

    /// The store file's name inside ``directory``.
    public static let storeFileName = "store.sealed"
    /// The secrets key's file name inside the keys directory.
    public static let keyFileName = "secrets.key"
    /// The token-signing key's file name inside the keys directory.
    public static let tokenKeyFileName = "token-signing.key"
    /// The default shortest value: 6 bytes.
    public static let defaultMinimumValueBytes = 6
    /// The first bytes of a store file, and the associated data of its outer seal.
    static let magic = Array("AIRLOCK-SECRETS/1\n".utf8)

    /// The store file.
    public var storeURL: URL { directory.appendingPathComponent(Self.storeFileName) }

    /// A store under `home` (`AIRLOCK_HOME`).
    /// - Parameters:
    ///   - home: the `AIRLOCK_HOME` directory.
    ///   - minimumValueBytes: the shortest value accepted (default 6 bytes).
    ///   - maximumValueBytes: the largest value accepted (default 64 KiB).
    public init(
        home: URL, minimumValueBytes: Int = SecretStore.defaultMinimumValueBytes, maximumValueBytes: Int = 64 << 10
    ) {
        self.directory = home.appendingPathComponent("secrets", isDirectory: true)
        self.keyURL = home.appendingPathComponent("keys", isDirectory: true).appendingPathComponent(Self.keyFileName)
        self.minimumValueBytes = minimumValueBytes
        self.maximumValueBytes = maximumValueBytes
    }

    /// Whether `name` is a valid secret name: `[A-Za-z_][A-Za-z0-9_.-]{0,63}`.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 64, first == UInt8(ascii: "_") || isLetter(first) else {
            return false
        }
        return bytes.dropFirst().allSatisfy {
            isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
                || $0 == UInt8(ascii: "-")
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7a }

    /// Every entry's metadata, by name; an empty list when there is no store yet.
    /// - Throws: ``SecretsError`` when the store or key is unreadable, unsafe or corrupt.
    public func list() throws(SecretsError) -> [SecretEntry] {
        try load().entries.values.map(\.entry).sorted { $0.name < $1.name }
    }

    /// A secret's metadata and value.
    /// - Throws: ``SecretsError`` `unknown-name`, or when the store is unreadable, unsafe or corrupt.
    public func value(of name: String) throws(SecretsError) -> (entry: SecretEntry, value: [UInt8]) {
        let document = try load()
        guard let sealed = document.entries[name] else { throw unknown(name, document: document) }
        return (sealed.entry, try document.open(sealed, storeURL: storeURL))
    }

    /// Every secret's value by name (what the redactor must know).
    /// - Throws: ``SecretsError`` when the store is unreadable, unsafe or corrupt.
    public func allValues() throws(SecretsError) -> [String: [UInt8]] {
        let document = try load()
        var values: [String: [UInt8]] = [:]
        for (name, sealed) in document.entries { values[name] = try document.open(sealed, storeURL: storeURL) }
        return values
    }

    /// Adds a new secret at version 1.
    /// - Throws: ``SecretsError`` `invalid-name`, `invalid-value`, `exists` (use ``rotate(_:value:now:)``),
    ///   or when the store cannot be read or written.
    @discardableResult
    public func set(_ name: String, value: [UInt8], now: Double = Date().timeIntervalSince1970) throws(SecretsError)
        -> SecretEntry
    {
        try write(name, value) { existing, _ throws(SecretsError) in
            guard existing == nil else {
                throw SecretsError(
                    .exists, "secret \(name) already exists; use `airlock secrets rotate \(name)` to replace its value")
            }
            return SecretEntry(name: name, version: 1, created: now)
        }
    }

    /// Replaces a secret's value with a new version; the next call receives the new one.
    /// - Throws: ``SecretsError`` `unknown-name`, `invalid-value`, or when the store cannot be read or written.
    @discardableResult
    public func rotate(_ name: String, value: [UInt8], now: Double = Date().timeIntervalSince1970) throws(SecretsError)
        -> SecretEntry
    {
        try write(name, value) { existing, document throws(SecretsError) in
            guard var entry = existing else { throw unknown(name, document: document) }
            entry.version += 1
            entry.rotated = now
            return entry
        }
    }

    /// Removes a secret.
    /// - Throws: ``SecretsError`` `unknown-name`, or when the store cannot be read or written.
    public func remove(_ name: String) throws(SecretsError) {
        try mutate { document throws(SecretsError) in
            guard document.entries.removeValue(forKey: name) != nil else { throw unknown(name, document: document) }
        }
    }

    /// Records that a tool call received `name` now.
    /// - Throws: ``SecretsError`` `unknown-name`, or when the store cannot be read or written.
    public func markUsed(_ name: String, now: Double = Date().timeIntervalSince1970) throws(SecretsError) {
        try mutate { document throws(SecretsError) in
            guard document.entries[name] != nil else { throw unknown(name, document: document) }
            document.entries[name]?.entry.lastUsed = now
        }
    }

    /// The store's directory, store file and both keys whose modes let group or others in;
    /// files that do not exist are not problems.
    public func checkPermissions() -> [PermissionProblem] {
        let keys = keyURL.deletingLastPathComponent()
        let checks: [(String, mode_t)] = [
            (directory.path, 0o700), (storeURL.path, 0o600), (keyURL.path, 0o600),
            (keys.appendingPathComponent(Self.tokenKeyFileName).path, 0o600),
        ]
        return checks.compactMap { path, expected in
            guard let mode = try? SecretFiles.mode(of: path), mode & 0o077 != 0 else { return nil }
            return PermissionProblem(path: path, mode: UInt32(mode), expected: UInt32(expected))
        }
    }

    /// Checks name and value, then seals `value` under the entry `next` makes of the existing one.
    private func write(
        _ name: String, _ value: [UInt8],
        _ next: (SecretEntry?, SealedStore) throws(SecretsError) -> SecretEntry
    ) throws(SecretsError) -> SecretEntry {
        try check(name, value)
        return try mutate { document throws(SecretsError) in
            let entry = try next(document.entries[name]?.entry, document)
            document.entries[name] = try document.seal(value, entry: entry)
            return entry
        }
    }

    private func check(_ name: String, _ value: [UInt8]) throws(SecretsError) {
        guard Self.isValidName(name) else {
            throw SecretsError(
                .invalidName, "secret name \"\(name)\" must match [A-Za-z_][A-Za-z0-9_.-]{0,63}")
        }
        guard !value.isEmpty else { throw SecretsError(.invalidValue, "secret \(name): the value is empty") }
        guard value.count >= minimumValueBytes else {
            throw SecretsError(
                .invalidValue,
                "secret \(name): the value has \(value.count) bytes, fewer than \(minimumValueBytes); so short a value "
                    + "occurs by chance in ordinary text and could not be redacted safely")
        }
        guard value.count <= maximumValueBytes else {
            throw SecretsError(
                .invalidValue, "secret \(name): the value has \(value.count) bytes, more than \(maximumValueBytes)")
        }
    }

    private func unknown(_ name: String, document: SealedStore) -> SecretsError {
        let known = document.entries.keys.sorted()
        return SecretsError(
            .unknownName,
            known.isEmpty
                ? "no secret named \(name): the store \(storeURL.path) is empty or does not exist yet"
                : "no secret named \(name) in \(storeURL.path) (known: \(known.joined(separator: ", ")))")
    }

    /// Reads and opens the store; no store file is an empty store.
    func load(createKey: Bool = false) throws(SecretsError) -> SealedStore {
        let path = storeURL.path
        try SecretFiles.requirePrivate(directory.path, what: "secrets directory", expected: 0o700)
        let exists = try SecretFiles.mode(of: path) != nil
        guard let key = try SecretFiles.key(at: keyURL, what: "secrets key", create: createKey) else {
            if exists {
                throw SecretsError(
                    .io,
                    "the secret store \(path) exists but its key \(keyURL.path) does not; restore the key from a backup"
                )
            }
            return SealedStore(key: [], entries: [:])
        }
        guard exists else { return SealedStore(key: key, entries: [:]) }
        try SecretFiles.requirePrivate(path, what: "secret store", expected: 0o600)
        return try SealedStore(opening: try SecretFiles.read(path, what: "secret store"), key: key, path: path)
    }

    /// Loads, changes and writes the store under an exclusive `flock` on `secrets/.lock`.
    private func mutate<T>(_ change: (inout SealedStore) throws(SecretsError) -> T) throws(SecretsError) -> T {
        try SecretFiles.makeDirectory(directory, mode: 0o700)
        let lockPath = directory.appendingPathComponent(".lock").path
        let lock: FileLock
        do {
            lock = try FileLock(path: lockPath, wait: true)
        } catch {
            throw SecretsError(.io, "\(error.stage) lock file \(lockPath)", cause: error.reason)
        }
        defer { lock.release() }
        var document = try load(createKey: true)
        let result = try change(&document)
        try SecretFiles.writeAtomically(try document.sealed(), to: storeURL.path, mode: 0o600)
        return result
    }
}
