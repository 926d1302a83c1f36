import AirlockCore
import Foundation

/// The store's document in memory: metadata in the clear, each value still sealed.
struct SealedStore {
    /// One entry: its metadata and its sealed value (`nonce ‖ ciphertext ‖ tag`).
    struct Sealed {
        var entry: SecretEntry
        var value: [UInt8]
    }

    let key: [UInt8]
    var entries: [String: Sealed]

    init(key: [UInt8], entries: [String: Sealed]) {
        self.key = key
        self.entries = entries
    }

    /// The associated data of a value's seal: the name and the version it belongs to, so a value
    /// cannot be moved to another entry or replayed as another version.
    static func aad(_ entry: SecretEntry) -> [UInt8] { Array("airlock-secret\0\(entry.name)\0\(entry.version)".utf8) }

    /// Opens a store file's bytes.
    /// - Throws: ``SecretsError`` `corrupt` naming the path when it fails authentication or does not parse.
    init(opening bytes: [UInt8], key: [UInt8], path: String) throws(SecretsError) {
        self.key = key
        let magic = SecretStore.magic
        guard bytes.starts(with: magic),
            let plain = SecretCipher.open(Array(bytes.dropFirst(magic.count)), key: key, aad: magic)
        else {
            throw SecretsError(
                .corrupt,
                "the secret store \(path) fails authentication: it is damaged or was sealed with another key than "
                    + "the secrets key; restore both from the same backup")
        }
        func bad(_ what: String) -> SecretsError {
            SecretsError(.corrupt, "the secret store \(path) is malformed: \(what)")
        }
        let document: JSONValue
        do {
            document = try JSONParser().parse(plain)
        } catch {
            throw bad("\(error)")
        }
        guard case .array(let items)? = document["entries"] else { throw bad("no entries array") }
        var entries: [String: Sealed] = [:]
        for (index, item) in items.enumerated() {
            guard case .string(let name)? = item["name"], case .integer(let version)? = item["version"],
                let created = item["created"]?.doubleValue, case .string(let hex)? = item["value"],
                let value = Hex.decode(hex)
            else { throw bad("entry \(index) lacks name, version, created or value") }
            let entry = SecretEntry(
                name: name, version: Int(version), created: created, rotated: item["rotated"]?.doubleValue,
                lastUsed: item["last_used"]?.doubleValue)
            entries[name] = Sealed(entry: entry, value: value)
        }
        self.entries = entries
    }

    /// Seals a value for `entry`.
    func seal(_ value: [UInt8], entry: SecretEntry) throws(SecretsError) -> Sealed {
        Sealed(entry: entry, value: try SecretCipher.seal(value, key: key, aad: Self.aad(entry)))
    }

    /// Opens an entry's value.
    /// - Throws: ``SecretsError`` `corrupt` naming the secret when it fails authentication.
    func open(_ sealed: Sealed, storeURL: URL) throws(SecretsError) -> [UInt8] {
        guard let value = SecretCipher.open(sealed.value, key: key, aad: Self.aad(sealed.entry)) else {
            throw SecretsError(
                .corrupt, "secret \(sealed.entry.name) in \(storeURL.path) fails authentication (its entry was altered)"
            )
        }
        return value
    }

    /// The file's bytes: magic, then the whole document sealed with the magic as associated data.
    func sealed() throws(SecretsError) -> [UInt8] {
        let items: [JSONValue] = entries.keys.sorted().compactMap { name in
            guard let sealed = entries[name] else { return nil }
            let e = sealed.entry
            return [
                "name": .string(e.name), "version": .integer(Int64(e.version)), "created": .number(e.created),
                "rotated": e.rotated.map(JSONValue.number) ?? .null,
                "last_used": e.lastUsed.map(JSONValue.number) ?? .null, "value": .string(Hex.encode(sealed.value)),
            ]
        }
        let plain = (["format": "airlock-secrets/1", "entries": .array(items)] as JSONValue).canonicalBytes
        return SecretStore.magic + (try SecretCipher.seal(plain, key: key, aad: SecretStore.magic))
    }
}
