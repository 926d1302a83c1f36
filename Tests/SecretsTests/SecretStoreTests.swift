import Foundation
import Testing

@testable import Secrets

/// The store on the real file system: round trip, modes, and every way it can be unreadable.
@Suite("Secret store")
struct SecretStoreTests {
    let home: URL
    let store: SecretStore

    init() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        store = SecretStore(home: home)
    }

    func mode(_ url: URL) throws -> Int {
        try #require((try FileManager.default.attributesOfItem(atPath: url.path))[.posixPermissions] as? Int)
    }

    @Test func aValueRoundTripsSealedAtRestWithPrivateModes() throws {
        let value = Array("correct horse battery staple".utf8)
        let entry = try store.set("REPORTS_DB_PASSWORD", value: value, now: 1000)
        #expect(entry.version == 1 && entry.created == 1000 && entry.rotated == nil)
        #expect(try store.value(of: "REPORTS_DB_PASSWORD").value == value)
        let bytes = try Data(contentsOf: store.storeURL)
        #expect(bytes.range(of: Data(value)) == nil)
        #expect(bytes.range(of: Data("REPORTS_DB_PASSWORD".utf8)) == nil, "names are sealed too")
        #expect(try mode(store.directory) == 0o700)
        #expect(try mode(store.storeURL) == 0o600)
        #expect(try mode(store.keyURL) == 0o600)
        #expect(try Data(contentsOf: store.keyURL).count == 32)
        #expect(store.checkPermissions().isEmpty)

        let rotated = try store.rotate("REPORTS_DB_PASSWORD", value: Array("a brand new value".utf8), now: 2000)
        #expect(rotated.version == 2 && rotated.rotated == 2000 && rotated.created == 1000)
        try store.markUsed("REPORTS_DB_PASSWORD", now: 3000)
        #expect(try store.list().map(\.lastUsed) == [3000])
        #expect(try store.value(of: "REPORTS_DB_PASSWORD").value == Array("a brand new value".utf8))
        try store.remove("REPORTS_DB_PASSWORD")
        #expect(try store.list().isEmpty)
    }

    @Test func badNamesAndShortValuesAreRefusedWithTheReason() throws {
        for name in ["", "1abc", "has space", "a/b", String(repeating: "x", count: 65)] {
            #expect(throws: SecretsError.self) { try store.set(name, value: Array("long enough".utf8)) }
        }
        #expect(SecretStore.isValidName("_a.b-c_9"))
        let error = try #require(throws: SecretsError.self) { try store.set("SHORT", value: Array("12345".utf8)) }
        #expect(error.code == .invalidValue)
        #expect(error.message.contains("redacted safely"))
        try store.set("A_NAME", value: Array("long enough".utf8))
        let exists = try #require(throws: SecretsError.self) {
            try store.set("A_NAME", value: Array("long enough".utf8))
        }
        #expect(exists.code == .exists)
    }

    @Test func aMissingStoreOrNameIsNamed() throws {
        let missing = try #require(throws: SecretsError.self) { try store.value(of: "NOPE") }
        #expect(missing.code == .unknownName)
        #expect(missing.message.contains(store.storeURL.path))
        #expect(try store.list().isEmpty)
        try store.set("THERE", value: Array("long enough".utf8))
        let unknown = try #require(throws: SecretsError.self) {
            try store.rotate("NOPE", value: Array("long enough".utf8))
        }
        #expect(unknown.message.contains("known: THERE"))
        try FileManager.default.removeItem(at: store.keyURL)
        let noKey = try #require(throws: SecretsError.self) { try store.list() }
        #expect(noKey.message.contains(store.keyURL.path))
    }

    @Test func aFlippedByteFailsAuthenticationNamingThePath() throws {
        try store.set("DB", value: Array("long enough".utf8))
        var bytes = try Data(contentsOf: store.storeURL)
        for offset in [SecretStore.magic.count + 2, bytes.count / 2, bytes.count - 1] {
            bytes[offset] ^= 0x40
            try bytes.write(to: store.storeURL)
            let error = try #require(throws: SecretsError.self) { try store.value(of: "DB") }
            #expect(error.code == .corrupt)
            #expect(error.message.contains(store.storeURL.path))
            bytes[offset] ^= 0x40
        }
        try bytes.write(to: store.storeURL)
        #expect(try store.value(of: "DB").value == Array("long enough".utf8))
    }

    @Test func anotherKeyCannotOpenTheStore() throws {
        try store.set("DB", value: Array("long enough".utf8))
        try Data((0..<32).map { UInt8($0) }).write(to: store.keyURL)
        let error = try #require(throws: SecretsError.self) { try store.list() }
        #expect(error.code == .corrupt)
        #expect(error.message.contains("another key"))
    }

    @Test func aWorldReadableKeyOrStoreIsRefusedAndReported() throws {
        try store.set("DB", value: Array("long enough".utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: store.keyURL.path)
        let error = try #require(throws: SecretsError.self) { try store.list() }
        #expect(error.code == .unsafePermissions)
        #expect(error.message.contains("chmod 600 \(store.keyURL.path)"))
        #expect(store.checkPermissions().map(\.path) == [store.keyURL.path])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: store.keyURL.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: store.storeURL.path)
        #expect(throws: SecretsError.self) { try store.list() }
        #expect(store.checkPermissions().map(\.path) == [store.storeURL.path])
    }

    @Test func aTruncatedKeyIsNamed() throws {
        try store.set("DB", value: Array("long enough".utf8))
        try Data(count: 31).write(to: store.keyURL)
        let error = try #require(throws: SecretsError.self) { try store.list() }
        #expect(error.code == .keyInvalid)
        #expect(error.message.contains(store.keyURL.path) && error.message.contains("31 bytes"))
    }

    @Test func aValueSealedForOneEntryCannotBeMovedToAnother() throws {
        let key = try SecretCipher.randomBytes(32)
        let a = SecretEntry(name: "A_SECRET", version: 1, created: 0)
        let b = SecretEntry(name: "B_SECRET", version: 1, created: 0)
        let sealed = try SecretCipher.seal(Array("value-of-a".utf8), key: key, aad: SealedStore.aad(a))
        #expect(SecretCipher.open(sealed, key: key, aad: SealedStore.aad(a)) == Array("value-of-a".utf8))
        #expect(SecretCipher.open(sealed, key: key, aad: SealedStore.aad(b)) == nil)
        let next = SecretEntry(name: "A_SECRET", version: 2, created: 0)
        #expect(SecretCipher.open(sealed, key: key, aad: SealedStore.aad(next)) == nil)
    }
}
